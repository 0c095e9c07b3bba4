/** Names for made-up New Yorkers: varied origins, as in the city. Any likeness is coincidence. */
// prettier-ignore
export const FIRST_NAMES: readonly string[] = [
  'Aaliyah', 'Aaron', 'Abigail', 'Adrian', 'Aisha', 'Alejandro', 'Alexis', 'Ali', 'Alicia', 'Amara',
  'Amir', 'Ana', 'Andre', 'Andrew', 'Angela', 'Anjali', 'Anthony', 'Arjun', 'Ava', 'Ayesha',
  'Benjamin', 'Bianca', 'Brandon', 'Brianna', 'Camila', 'Carlos', 'Caroline', 'Chloe', 'Chris', 'Daniel',
  'Daniela', 'David', 'Deepa', 'Denise', 'Diego', 'Dmitri', 'Elena', 'Eli', 'Elijah', 'Emily',
  'Eric', 'Esther', 'Ethan', 'Fatima', 'Felipe', 'Gabriel', 'Gabriela', 'Grace', 'Hana', 'Hannah',
  'Hector', 'Hiroshi', 'Ibrahim', 'Imani', 'Isaac', 'Isabella', 'Jacob', 'Jamal', 'James', 'Jasmine',
  'Javier', 'Jenna', 'Jin', 'Joanna', 'Jonathan', 'Jordan', 'Jose', 'Joseph', 'Julia', 'Julian',
  'Kai', 'Kaitlyn', 'Kavya', 'Keisha', 'Kenji', 'Kevin', 'Khalid', 'Kiara', 'Laila', 'Lauren',
  'Leah', 'Leila', 'Leo', 'Liam', 'Lila', 'Lucas', 'Lucia', 'Luis', 'Maya', 'Malik',
  'Marcus', 'Maria', 'Mariana', 'Mateo', 'Matthew', 'Mei', 'Mia', 'Miguel', 'Mina', 'Mohammed',
  'Nadia', 'Naomi', 'Natalia', 'Nathan', 'Nia', 'Nicole', 'Nikhil', 'Noah', 'Nora', 'Olivia',
  'Omar', 'Oscar', 'Priya', 'Rachel', 'Rafael', 'Rahul', 'Rebecca', 'Ricardo', 'Rosa', 'Ruth',
  'Ryan', 'Samantha', 'Samuel', 'Sana', 'Sara', 'Sebastian', 'Shira', 'Simone', 'Sofia', 'Soo-ah',
  'Stephanie', 'Tariq', 'Tatiana', 'Theo', 'Tomas', 'Valentina', 'Vanessa', 'Victor', 'Wei', 'Xavier',
  'Yara', 'Yasmin', 'Yuki', 'Yusuf', 'Zainab', 'Zoe',
];

// prettier-ignore
export const LAST_NAMES: readonly string[] = [
  'Abbott', 'Adeyemi', 'Aguilar', 'Ahmed', 'Alvarez', 'Anderson', 'Baker', 'Banerjee', 'Bell', 'Bennett',
  'Brooks', 'Brown', 'Campbell', 'Castillo', 'Chang', 'Chaudhry', 'Cohen', 'Collins', 'Cruz', 'Davis',
  'Diaz', 'Dubois', 'Edwards', 'Evans', 'Fernandez', 'Fischer', 'Flores', 'Friedman', 'Garcia', 'Goldberg',
  'Gomez', 'Gonzalez', 'Greene', 'Gupta', 'Gutierrez', 'Hall', 'Harris', 'Hassan', 'Hernandez', 'Hill',
  'Ho', 'Huang', 'Hughes', 'Ibrahim', 'Ito', 'Jackson', 'Jimenez', 'Joseph', 'Kaplan', 'Kapoor',
  'Kelly', 'Khan', 'Kim', 'Kowalski', 'Kumar', 'Lee', 'Levy', 'Lewis', 'Li', 'Lin',
  'Lopez', 'Martin', 'Martinez', 'Mehta', 'Mendoza', 'Miller', 'Mitchell', 'Moore', 'Morales', 'Murphy',
  'Nakamura', 'Nguyen', 'Novak', "O'Brien", 'Okafor', 'Oliveira', 'Ortiz', 'Park', 'Patel', 'Perez',
  'Petrov', 'Phillips', 'Price', 'Quinn', 'Ramirez', 'Ramos', 'Reyes', 'Richardson', 'Rivera', 'Roberts',
  'Robinson', 'Romano', 'Rosen', 'Ruiz', 'Russo', 'Sanchez', 'Santos', 'Schwartz', 'Scott', 'Shah',
  'Shapiro', 'Silva', 'Singh', 'Sokolov', 'Sullivan', 'Tanaka', 'Taylor', 'Thomas', 'Thompson', 'Torres',
  'Tran', 'Turner', 'Vargas', 'Vasquez', 'Walker', 'Wang', 'Washington', 'Watanabe', 'Weiss', 'White',
  'Williams', 'Wilson', 'Wong', 'Wright', 'Wu', 'Yamamoto', 'Yang', 'Young', 'Zhang', 'Zhou',
];
