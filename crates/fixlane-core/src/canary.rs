//! The canary's pure half: its events, its step plan and how a check's samples become a verdict.
