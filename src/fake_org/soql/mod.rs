//! The fake org's SOQL engine: parser and evaluator over a [`super::model::DataSource`].
