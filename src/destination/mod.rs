//! One file per destination behind one trait.
