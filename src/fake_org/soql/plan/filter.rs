//! The WHERE clause planned: conditions resolved against the schema, operators checked
//! against field types, literals typed (dates, Ids, picklists), semi-joins run.

use super::*;

impl Planner<'_> {
    /// One WHERE condition resolved and checked. Long on purpose: one arm per condition form
    /// (AND/OR/NOT, comparison, LIKE, IN, INCLUDES, semi-join), each with the restrictions
    /// Salesforce applies to it.
    pub(super) fn condition(&self, object: &ObjectDef, expr: &Expr) -> Result<Cond, SoqlError> {
        Ok(match expr {
            Expr::And(terms) => Cond::And(
                terms
                    .iter()
                    .map(|t| self.condition(object, t))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(terms) => Cond::Or(
                terms
                    .iter()
                    .map(|t| self.condition(object, t))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(inner) => Cond::Not(Box::new(self.condition(object, inner)?)),
            Expr::Compare {
                field,
                op,
                value,
                value_pos,
            } => {
                let resolved = self.filterable(object, field)?;
                let operand = self.operand(&resolved.field, value, *value_pos)?;
                self.check_operator(&resolved.field, *op, &operand, field.pos)?;
                if is_id_like(&resolved.field) && matches!(op, CompareOp::Eq | CompareOp::Ne) {
                    id_in(resolved, *op == CompareOp::Ne, vec![operand])
                } else {
                    Cond::Compare {
                        field: resolved,
                        op: *op,
                        value: operand,
                    }
                }
            }
            Expr::Like { field, pattern } => {
                let resolved = self.filterable(object, field)?;
                if !resolved.field.field_type.is_text() {
                    return Err(self.error(
                        "INVALID_FIELD",
                        field.pos,
                        &format!(
                            "invalid operator on field '{}': LIKE only applies to text fields",
                            resolved.field.name
                        ),
                    ));
                }
                Cond::Like {
                    field: resolved,
                    pattern: pattern.iter().map(lowercase_part).collect(),
                }
            }
            Expr::In {
                field,
                negated,
                list,
                value_pos,
            } => {
                let resolved = self.filterable(object, field)?;
                match list {
                    InList::Values(values) => {
                        let operands = values
                            .iter()
                            .map(|v| self.operand(&resolved.field, v, *value_pos))
                            .collect::<Result<Vec<_>, _>>()?;
                        if is_id_like(&resolved.field) {
                            id_in(resolved, *negated, operands)
                        } else {
                            let text_set = operands
                                .iter()
                                .map(|o| match o {
                                    Operand::Text(t) => Some(t.clone()),
                                    _ => None,
                                })
                                .collect::<Option<HashSet<String>>>();
                            Cond::In {
                                field: resolved,
                                negated: *negated,
                                values: operands,
                                text_set,
                            }
                        }
                    }
                    InList::Subquery(sub) => {
                        if !is_id_like(&resolved.field) {
                            return Err(self.error(
                                "MALFORMED_QUERY",
                                field.pos,
                                &format!(
                                    "semi join sub-selects are only allowed on Id or reference fields, not '{}'",
                                    resolved.field.name
                                ),
                            ));
                        }
                        let ids = self.semi_join(sub)?;
                        id_in(
                            resolved,
                            *negated,
                            ids.into_iter().map(Operand::Ordered).collect(),
                        )
                    }
                }
            }
            Expr::Includes {
                field,
                excludes,
                values,
            } => {
                let resolved = self.filterable(object, field)?;
                if resolved.field.field_type != FieldType::MultiPicklist {
                    return Err(self.error(
                        "INVALID_FIELD",
                        field.pos,
                        &format!(
                            "invalid operator on field '{}': INCLUDES and EXCLUDES only apply to multi-select picklists",
                            resolved.field.name
                        ),
                    ));
                }
                Cond::Includes {
                    field: resolved,
                    excludes: *excludes,
                    sets: values.iter().map(|v| split_multipicklist(v)).collect(),
                }
            }
        })
    }

    /// The Ids a semi-join sub-select yields.
    pub(super) fn semi_join(&self, sub: &Query) -> Result<Vec<String>, SoqlError> {
        let object = self.object(&sub.from.text, sub.from.pos)?;
        let [SelectItem::Field(path)] = sub.select.as_slice() else {
            return Err(self.error(
                "MALFORMED_QUERY",
                sub.from.pos,
                "a semi join sub-select must select exactly one Id or reference field",
            ));
        };
        let plan = self.plan(sub, object, false)?;
        let selected = self.resolve(object, path)?;
        if !is_id_like(&selected.field) {
            return Err(self.error(
                "MALFORMED_QUERY",
                path.pos,
                "a semi join sub-select must select exactly one Id or reference field",
            ));
        }
        let rows = eval::select_rows(self.ds, object, &plan, self.include_deleted);
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for row in rows {
            let value = eval::field_value(self.ds, object, row, &selected);
            if let Some(id) = value.as_str().and_then(normalize_id) {
                if seen.insert(id.clone()) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }

    pub(super) fn filterable(
        &self,
        object: &ObjectDef,
        path: &FieldPath,
    ) -> Result<ResolvedField, SoqlError> {
        let resolved = self.resolve(object, path)?;
        if !resolved.field.filterable || resolved.field.field_type == FieldType::Base64 {
            return Err(self.error(
                "INVALID_FIELD",
                path.pos,
                &format!(
                    "field '{}' can not be filtered in a query call",
                    resolved.field.name
                ),
            ));
        }
        Ok(resolved)
    }

    pub(super) fn check_operator(
        &self,
        field: &FieldDef,
        op: CompareOp,
        operand: &Operand,
        pos: usize,
    ) -> Result<(), SoqlError> {
        let ordered = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        if ordered && field.field_type == FieldType::Boolean {
            return Err(self.error(
                "INVALID_QUERY_FILTER_OPERATOR",
                pos,
                &format!("invalid operator on boolean field: {}", field.name),
            ));
        }
        if ordered && *operand == Operand::Null {
            return Err(self.error(
                "INVALID_QUERY_FILTER_OPERATOR",
                pos,
                &format!("invalid operator for null value on field: {}", field.name),
            ));
        }
        Ok(())
    }

    /// Types a literal against the field it is compared with, with Salesforce's message
    /// when they do not match. Long on purpose: one arm per field type, as the type table
    /// of the SOQL reference reads.
    pub(super) fn operand(
        &self,
        field: &FieldDef,
        literal: &Literal,
        pos: usize,
    ) -> Result<Operand, SoqlError> {
        use FieldType as T;
        let mismatch = |expected: &str, quoted: bool| {
            self.error(
                "INVALID_FIELD",
                pos,
                &format!(
                    "value of filter criterion for field '{}' must be of type {expected} and should {}be enclosed in quotes",
                    field.name,
                    if quoted { "" } else { "not " }
                ),
            )
        };
        if *literal == Literal::Null {
            return Ok(Operand::Null);
        }
        Ok(match field.field_type {
            T::Id | T::Reference => match literal {
                Literal::String(s) if s.is_empty() => Operand::Null,
                Literal::String(s) => match normalize_id(s) {
                    Some(id) => Operand::Ordered(id),
                    None => {
                        return Err(self.error(
                            "INVALID_QUERY_FILTER_OPERATOR",
                            pos,
                            &format!("invalid ID field: {s}"),
                        ))
                    }
                },
                _ => return Err(mismatch("id", true)),
            },
            T::Boolean => match literal {
                Literal::Bool(b) => Operand::Bool(*b),
                _ => return Err(mismatch("boolean", false)),
            },
            T::Int => match literal {
                Literal::Number(n) => Operand::Number(*n),
                _ => return Err(mismatch("integer", false)),
            },
            T::Double | T::Currency | T::Percent => match literal {
                Literal::Number(n) => Operand::Number(*n),
                _ => return Err(mismatch("double", false)),
            },
            T::Date => match literal {
                Literal::Date(d) => Operand::Ordered(fixed_width_date(*d)),
                Literal::Relative(r) => {
                    let (start, end) = relative_range(*r, self.today);
                    Operand::Range(fixed_width_date(start), fixed_width_date(end))
                }
                _ => return Err(mismatch("date", false)),
            },
            T::DateTime => match literal {
                Literal::DateTime(dt) => {
                    Operand::Ordered(eval::canonical_datetime(&dt.with_timezone(&Utc)))
                }
                Literal::Relative(r) => {
                    let (start, end) = relative_range(*r, self.today);
                    Operand::Range(midnight(start), midnight(end))
                }
                _ => return Err(mismatch("dateTime", false)),
            },
            T::Time => match literal {
                Literal::String(s) => Operand::Ordered(s.clone()),
                _ => return Err(mismatch("time", true)),
            },
            // Compound addresses are filterable in describe, but only for null checks here
            // (real orgs compare them through DISTANCE, which this engine does not have).
            T::Address => {
                return Err(self.error(
                    "INVALID_FIELD",
                    pos,
                    &format!("field '{}' can not be filtered in a query call", field.name),
                ))
            }
            T::String
            | T::TextArea
            | T::Email
            | T::Phone
            | T::Url
            | T::Picklist
            | T::MultiPicklist
            | T::Combobox
            | T::Base64 => match literal {
                Literal::String(s) => Operand::Text(s.to_lowercase()),
                _ => return Err(mismatch("string", true)),
            },
        })
    }
}
