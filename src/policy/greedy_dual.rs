//! Being written (see the policies issue).
