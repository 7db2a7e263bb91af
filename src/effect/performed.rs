//! What the gate ([`crate::services::Services::perform`]) did with a change: planned it, or
//! made it and got a value.

/// What `perform` did with a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a planned change was not made: the caller must not act as if it had been"]
pub enum Performed<T> {
    /// A dry run recorded the change; the operation did not run.
    Planned,
    /// The operation ran and gave this.
    Done(T),
}

impl<T> Performed<T> {
    pub fn planned(&self) -> bool {
        matches!(self, Performed::Planned)
    }

    /// The operation's value, or `T::default()` for a change a dry run only planned (the
    /// placeholder the primitive goes on with).
    pub fn or_placeholder(self) -> T
    where
        T: Default,
    {
        match self {
            Performed::Planned => T::default(),
            Performed::Done(v) => v,
        }
    }
}
