//! See DESIGN.md: the `salesforce` layer.
