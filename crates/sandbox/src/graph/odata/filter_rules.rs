//! Binds a parsed `$filter` to the schema and applies Graph's directory rules, in the order Graph does:
//! first the OData binding (property names resolved case-insensitively to the schema's casing, literal types
//! checked against property types — a mismatch is `400 BadRequest` "Invalid filter clause: …"), then the
//! directory's own limits (which properties are filterable with which operators, and which operators need
//! advanced query parameters — `400 Request_UnsupportedQuery`).

use http::StatusCode;

use super::EntityKind;
use super::capabilities::{OpClass, Support, filterable, support};
use super::error_messages as msg;
use super::filter::{CompareOp, Expr, LambdaKind, Literal, Operand};
use super::schema::{EdmType, StructuredType, entity, schema};
use crate::graph::error::GraphError;

/// What an operand turned out to be after binding.
#[derive(Clone, Debug)]
struct Bound {
    /// The type (element type for collections); `None` for an undeclared (dynamic) property.
    ty: Option<EdmType>,
    collection: bool,
    /// The property the directory's support tables are keyed by (first path segment, schema casing).
    row: Option<String>,
}

/// A lambda being checked: its element type and the collection property it ranges over.
#[derive(Clone, Debug)]
struct LambdaFrame {
    element: Option<EdmType>,
    row: Option<String>,
}

struct Checker {
    kind: EntityKind,
    advanced: bool,
    lambdas: Vec<LambdaFrame>,
}

/// Binds and checks `expr` for a list of `kind`; `advanced` = advanced query parameters present.
/// Returns the expression with property names in the schema's casing.
pub fn check_filter(kind: EntityKind, expr: &Expr, advanced: bool) -> Result<Expr, GraphError> {
    let mut checker = Checker { kind, advanced, lambdas: Vec::new() };
    let bound = checker.bind_expr(expr)?;
    checker.lambdas.clear();
    checker.rules(&bound)?;
    Ok(bound)
}

fn invalid_filter(detail: impl std::fmt::Display) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", format!("Invalid filter clause: {detail}"))
}

fn literal_type(literal: &Literal) -> Option<EdmType> {
    match literal {
        Literal::Null => None,
        Literal::Bool(_) => Some(EdmType::Boolean),
        Literal::Int(_) => Some(EdmType::Integer),
        Literal::Str(_) => Some(EdmType::String),
        Literal::Guid(_) => Some(EdmType::Guid),
        Literal::DateTime(_) => Some(EdmType::DateTimeOffset),
        Literal::Date(_) => Some(EdmType::Date),
    }
}

fn type_name(bound: &Bound) -> String {
    let name = bound.ty.as_ref().map_or_else(|| "Edm.Untyped".to_string(), EdmType::odata_name);
    if bound.collection { format!("Collection({name})") } else { name }
}

/// Whether a value of `property` can be compared with a literal of type `literal` (`None` = null).
fn compatible(property: &Bound, literal: Option<&EdmType>) -> bool {
    let (Some(property_type), Some(literal_type)) = (&property.ty, literal) else {
        return !property.collection;
    };
    if property.collection {
        return false;
    }
    match (property_type, literal_type) {
        (EdmType::Integer | EdmType::Double, EdmType::Integer) => true,
        (EdmType::DateTimeOffset | EdmType::Date, EdmType::DateTimeOffset | EdmType::Date) => true,
        (left, right) => left == right,
    }
}

impl Checker {
    fn resource(&self) -> &'static str {
        match self.kind {
            EntityKind::User => "User",
            EntityKind::Group => "Group",
        }
    }

    /// Resolves `path` below `start` (an entity or complex type), canonicalising names.
    fn resolve_path(start: Option<&StructuredType>, path: &[String]) -> (Vec<String>, Bound) {
        let mut canonical = Vec::with_capacity(path.len());
        let mut current = start;
        let mut bound = Bound { ty: None, collection: false, row: None };
        for (index, segment) in path.iter().enumerate() {
            let property = current.filter(|_| !bound.collection).and_then(|structured| structured.property(segment));
            match property {
                Some(property) => {
                    canonical.push(property.name.clone());
                    bound.ty = Some(property.ty.clone());
                    bound.collection = property.collection;
                    current = match &property.ty {
                        EdmType::Structured(name) => schema().structured(name),
                        _ => None,
                    };
                }
                None => {
                    canonical.extend(path[index..].iter().cloned());
                    bound.ty = None;
                    bound.collection = false;
                    break;
                }
            }
        }
        (canonical, bound)
    }

    fn bind_operand(&self, operand: &Operand) -> Result<(Operand, Bound), GraphError> {
        match operand {
            Operand::Literal(literal) => {
                Ok((operand.clone(), Bound { ty: literal_type(literal), collection: false, row: None }))
            }
            Operand::Property(path) => {
                let (canonical, mut bound) = Self::resolve_path(Some(entity(self.kind)), path);
                bound.row = canonical.first().cloned();
                Ok((Operand::Property(canonical), bound))
            }
            Operand::Variable { depth, path } => {
                let frame = self.lambdas.get(*depth).cloned().unwrap_or(LambdaFrame { element: None, row: None });
                if path.is_empty() {
                    return Ok((operand.clone(), Bound { ty: frame.element, collection: false, row: frame.row }));
                }
                let start = match &frame.element {
                    Some(EdmType::Structured(name)) => schema().structured(name),
                    _ => None,
                };
                let (canonical, mut bound) = Self::resolve_path(start, path);
                bound.row = frame.row;
                Ok((Operand::Variable { depth: *depth, path: canonical }, bound))
            }
            Operand::Count(path) => {
                let (canonical, bound) = Self::resolve_path(Some(entity(self.kind)), path);
                if bound.ty.is_some() && !bound.collection {
                    return Err(invalid_filter(format!(
                        "The $count segment cannot be applied to '{}' because it is not a collection.",
                        canonical.join("/")
                    )));
                }
                let row = canonical.first().cloned();
                Ok((Operand::Count(canonical), Bound { ty: Some(EdmType::Integer), collection: false, row }))
            }
        }
    }

    fn bind_expr(&mut self, expr: &Expr) -> Result<Expr, GraphError> {
        Ok(match expr {
            Expr::And(parts) => Expr::And(parts.iter().map(|part| self.bind_expr(part)).collect::<Result<_, _>>()?),
            Expr::Or(parts) => Expr::Or(parts.iter().map(|part| self.bind_expr(part)).collect::<Result<_, _>>()?),
            Expr::Not(inner) => Expr::Not(Box::new(self.bind_expr(inner)?)),
            Expr::Compare { op, left, right } => {
                let (left, left_bound) = self.bind_operand(left)?;
                let (right, right_bound) = self.bind_operand(right)?;
                let (property, literal) = match (&left, &right) {
                    (_, Operand::Literal(_)) => (&left_bound, &right_bound),
                    _ => (&right_bound, &left_bound),
                };
                let literal_is_literal = matches!((&left, &right), (_, Operand::Literal(_)) | (Operand::Literal(_), _));
                if literal_is_literal && !compatible(property, literal.ty.as_ref()) {
                    return Err(invalid_filter(format!(
                        "A binary operator with incompatible types was detected. Found operand types '{}' and '{}' \
                         for operator kind '{}'.",
                        type_name(&left_bound),
                        type_name(&right_bound),
                        op.odata_kind()
                    )));
                }
                Expr::Compare { op: *op, left, right }
            }
            Expr::In { operand, values } => {
                let (operand, bound) = self.bind_operand(operand)?;
                for value in values {
                    let literal_type = literal_type(value);
                    if !compatible(&bound, literal_type.as_ref()) {
                        return Err(invalid_filter(format!(
                            "A binary operator with incompatible types was detected. Found operand types '{}' and \
                             '{}' for operator kind 'Equal'.",
                            type_name(&bound),
                            literal_type.map_or_else(|| "null".to_string(), |ty| ty.odata_name())
                        )));
                    }
                }
                Expr::In { operand, values: values.clone() }
            }
            Expr::StartsWith { operand, prefix } => {
                let operand = self.bind_string_function("startswith", operand)?;
                Expr::StartsWith { operand, prefix: prefix.clone() }
            }
            Expr::EndsWith { operand, suffix } => {
                let operand = self.bind_string_function("endswith", operand)?;
                Expr::EndsWith { operand, suffix: suffix.clone() }
            }
            Expr::Lambda { kind, collection, variable, body } => {
                let (collection, bound) = self.bind_operand(collection)?;
                if bound.ty.is_some() && !bound.collection {
                    return Err(invalid_filter("Only collection navigation properties may head Any/All queries."));
                }
                self.lambdas.push(LambdaFrame { element: bound.ty.clone(), row: bound.row.clone() });
                let body = match body {
                    Some(body) => Some(Box::new(self.bind_expr(body)?)),
                    None => None,
                };
                self.lambdas.pop();
                Expr::Lambda { kind: *kind, collection, variable: variable.clone(), body }
            }
        })
    }

    fn bind_string_function(&self, name: &str, operand: &Operand) -> Result<Operand, GraphError> {
        let (operand, bound) = self.bind_operand(operand)?;
        let is_string = bound.ty.as_ref().is_none_or(|ty| *ty == EdmType::String) && !bound.collection;
        if !is_string {
            return Err(invalid_filter(format!(
                "No function signature for the function with name '{name}' matches the specified arguments. The \
                 function signatures considered are: {name}(Edm.String Nullable=true, Edm.String Nullable=true)."
            )));
        }
        Ok(operand)
    }

    // -----------------------------------------------------------------------------------------------------
    // Directory rules (on the bound expression)

    /// The support-table row an operand belongs to (`None` for literals).
    fn row_of(&self, operand: &Operand) -> Option<String> {
        match operand {
            Operand::Literal(_) => None,
            Operand::Property(path) | Operand::Count(path) => path.first().cloned(),
            Operand::Variable { depth, .. } => self.lambdas.get(*depth).and_then(|frame| frame.row.clone()),
        }
    }

    fn require(&self, property: &str, class: OpClass) -> Result<(), GraphError> {
        let unsupported = || GraphError::unsupported_query(msg::unsupported_filter_property(property, self.resource()));
        if !filterable(self.kind, property) {
            return Err(unsupported());
        }
        match support(self.kind, property, class) {
            Support::Default => Ok(()),
            Support::Advanced if self.advanced => Ok(()),
            Support::No => Err(unsupported()),
            Support::Advanced => Err(match class {
                OpClass::EndsWith => GraphError::unsupported_query(msg::advanced_operator("endsWith")),
                OpClass::Ne => GraphError::unsupported_query(msg::NE_NOT_SUPPORTED),
                OpClass::Not => GraphError::unsupported_query(msg::NOT_NOT_SUPPORTED),
                OpClass::Count => GraphError::bad_request(msg::COUNT_NOT_SUPPORTED),
                _ => unsupported(),
            }),
        }
    }

    fn require_operand(&self, operand: &Operand, class: OpClass) -> Result<(), GraphError> {
        match self.row_of(operand) {
            Some(row) => self.require(&row, class),
            None => Ok(()),
        }
    }

    fn rules(&mut self, expr: &Expr) -> Result<(), GraphError> {
        match expr {
            Expr::And(parts) | Expr::Or(parts) => parts.iter().try_for_each(|part| self.rules(part)),
            Expr::Not(inner) => {
                let mut rows = Vec::new();
                self.collect_rows(inner, &mut rows);
                for row in &rows {
                    self.require(row, OpClass::Not)?;
                }
                self.rules(inner)
            }
            Expr::Compare { op, left, right } => {
                let (operand, literal) = match (left, right) {
                    (Operand::Literal(literal), operand) | (operand, Operand::Literal(literal)) => (operand, literal),
                    _ => return Err(GraphError::unsupported_query(msg::UNSUPPORTED_QUERY)),
                };
                let class = match (op, operand, literal) {
                    (_, Operand::Count(_), _) => OpClass::Count,
                    (CompareOp::Eq, _, Literal::Null) => OpClass::Null,
                    (CompareOp::Eq, _, _) => OpClass::Eq,
                    (CompareOp::Ne, _, _) => OpClass::Ne,
                    _ => OpClass::Range,
                };
                self.require_operand(operand, class)
            }
            Expr::In { operand, .. } => self.require_operand(operand, OpClass::In),
            Expr::StartsWith { operand, .. } => self.require_operand(operand, OpClass::StartsWith),
            Expr::EndsWith { operand, .. } => self.require_operand(operand, OpClass::EndsWith),
            Expr::Lambda { kind, collection, body, .. } => {
                let row = self.row_of(collection);
                if let Some(row) = &row {
                    if *kind == LambdaKind::All {
                        return Err(GraphError::unsupported_query(msg::unsupported_filter_property(
                            row,
                            self.resource(),
                        )));
                    }
                    self.require(row, OpClass::Eq)?;
                }
                if let Some(body) = body {
                    self.lambdas.push(LambdaFrame { element: None, row });
                    let result = self.rules(body);
                    self.lambdas.pop();
                    result?;
                }
                Ok(())
            }
        }
    }

    /// The rows of every property an expression refers to, in order of appearance.
    fn collect_rows(&self, expr: &Expr, rows: &mut Vec<String>) {
        let mut push = |row: Option<String>| {
            if let Some(row) = row
                && !rows.contains(&row)
            {
                rows.push(row);
            }
        };
        match expr {
            Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|part| self.collect_rows(part, rows)),
            Expr::Not(inner) => self.collect_rows(inner, rows),
            Expr::Compare { left, right, .. } => {
                push(self.row_of(left));
                push(self.row_of(right));
            }
            Expr::In { operand, .. } | Expr::StartsWith { operand, .. } | Expr::EndsWith { operand, .. } => {
                push(self.row_of(operand));
            }
            Expr::Lambda { collection, .. } => push(self.row_of(collection)),
        }
    }
}

#[cfg(test)]
#[path = "filter_rules_tests.rs"]
mod tests;
