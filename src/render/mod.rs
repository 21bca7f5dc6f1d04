//! See DESIGN.md: the `render` layer.
