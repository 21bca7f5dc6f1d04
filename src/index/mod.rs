//! See DESIGN.md: the `index` layer.
