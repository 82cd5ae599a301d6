//! Quizzes: definitions, scoring, branching and publish validation.
