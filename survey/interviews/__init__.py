"""Field interviews: interviewers' accounts and assignments, the offline interview
screen, and the district's quality checks."""
