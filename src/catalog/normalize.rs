//! Normalization of pasted text (see issue 2).
