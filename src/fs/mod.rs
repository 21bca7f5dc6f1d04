//! See DESIGN.md: the `fs` layer.
