//! How hoist's output reads for a person: colours only on a terminal, events as lines of
//! text, values as tables. The command line and the REPL both show through it, so both
//! look the same; neither prints here (callers do).

pub mod lines;
pub mod style;
pub mod table;
