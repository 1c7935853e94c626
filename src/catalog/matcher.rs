//! Matching pasted text against the catalog's signatures.
