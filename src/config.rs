//! Settings: TOML file, then environment, then flags; validated before mounting.
