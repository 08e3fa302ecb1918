//! Emergency changes: the record, the policy that admits or refuses each step, windows and
//! freezes, and commit discipline. Pure: the caller supplies the clock, the history and git's
//! answers.
