//! See DESIGN.md: the `catalog` layer.
