//! A new parameter, for `change --apply`: "postBbsMemberArticles needs an optional locale
//! parameter", "patchTodoMemberTodos needs a required sort parameter with value "asc"".
//!
//! AutoBE's providers take one `props` object (`postX(props: { member: MemberPayload; body:
//! IX.ICreate })`), and their callers (the controllers) pass an object literal. A parameter is
//! a property of that object type:
//! - **optional** (`add optional parameter `n``): `n?: T | undefined` joins the type; no
//!   caller has to change;
//! - **required with the value the request gives** (`add parameter `n` = "asc"`): `n: T`
//!   joins the type and every call passes `n: "asc"` in its object literal.
//!
//! The type follows the value (`"asc"` → `string`, `20` → `number`, `true` → `boolean`), or
//! for an optional parameter its name (`limit`, `page`… → `number`, `is…`/`include…` →
//! `boolean`, else `string`). What the provider does with the value is behaviour: a coder's.

use tree_sitter::Node;

use crate::mechanical::find;
use crate::prisma_add::{all, append_entry};

/// A parameter added to `function`: optional (`value` is `None`), or required and passed as
/// `value` (a TypeScript literal) by every caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddParameter {
    pub function: String,
    pub name: String,
    pub value: Option<String>,
}

impl AddParameter {
    /// `add optional parameter `n`` or `add parameter `n` = LITERAL` on `function`.
    pub fn of(function: &str, intent: &str) -> Option<AddParameter> {
        let intent = intent.trim();
        let ident = |s: &str| s.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') && s.chars().all(|c| c.is_alphanumeric() || c == '_');
        if let Some(rest) = intent.strip_prefix("add optional parameter `") {
            let name = rest.strip_suffix('`')?;
            return ident(name).then(|| AddParameter { function: function.into(), name: name.into(), value: None });
        }
        let rest = intent.strip_prefix("add parameter `")?;
        let (name, value) = rest.split_once("` = ")?;
        (ident(name) && literal_type(value).is_some()).then(|| AddParameter { function: function.into(), name: name.into(), value: Some(value.to_string()) })
    }

    fn type_text(&self) -> &'static str {
        match &self.value {
            Some(v) => literal_type(v).unwrap_or("string"),
            None => {
                let n = self.name.to_lowercase();
                if ["limit", "page", "offset", "size", "count", "take", "skip"].iter().any(|w| n == *w || n.ends_with(w)) {
                    "number"
                } else if n.starts_with("is") || n.starts_with("has") || n.starts_with("include") || n.starts_with("dry") {
                    "boolean"
                } else {
                    "string"
                }
            }
        }
    }
}

/// The TypeScript type of a literal the planner writes (`"x"`, `20`, `true`).
fn literal_type(v: &str) -> Option<&'static str> {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') && !v[1..v.len() - 1].contains(['"', '\\', '\n']) {
        Some("string")
    } else if v.parse::<f64>().is_ok_and(f64::is_finite) {
        Some("number")
    } else if v == "true" || v == "false" {
        Some("boolean")
    } else {
        None
    }
}

/// The provider's file with the property joined to its first parameter's object type. The
/// function is declared on `line` (1-based).
pub fn declaration_edit(path: &str, text: &str, line: u32, p: &AddParameter) -> Result<String, String> {
    let tree = maintaind_registry::parse_only(path, text.as_bytes()).ok_or("not a TypeScript file")?;
    let row = line.checked_sub(1).ok_or("the target has no line")? as usize;
    let function = find(tree.root_node(), &|n| {
        n.start_position().row == row
            && match n.kind() {
                "function_declaration" | "method_definition" => n.child_by_field_name("name").is_some_and(|m| text[m.byte_range()] == p.function),
                "variable_declarator" => {
                    n.child_by_field_name("name").is_some_and(|m| text[m.byte_range()] == p.function) && n.child_by_field_name("value").is_some_and(|v| v.kind() == "arrow_function")
                }
                _ => false,
            }
    })
    .ok_or_else(|| format!("no function `{}` on line {line} of {path}; plan again", p.function))?;
    let function = if function.kind() == "variable_declarator" { function.child_by_field_name("value").expect("checked above") } else { function };
    let params = function.child_by_field_name("parameters").ok_or_else(|| format!("`{}` has no parameter list", p.function))?;
    let mut cursor = params.walk();
    let first = params.named_children(&mut cursor).find(|c| matches!(c.kind(), "required_parameter" | "optional_parameter"));
    let object = first
        .and_then(|f| f.child_by_field_name("type"))
        .and_then(|t| t.named_child(0))
        .filter(|t| t.kind() == "object_type")
        .ok_or_else(|| format!("`{}` does not take one `props` object with a written-out type, as AutoBE's providers do; a coder adds the parameter", p.function))?;
    let mut cursor = object.walk();
    let props: Vec<Node> = object.named_children(&mut cursor).filter(|c| c.kind() == "property_signature").collect();
    if props.iter().any(|x| x.child_by_field_name("name").is_some_and(|n| text[n.byte_range()] == p.name)) {
        return Err(format!("`{}` already takes `{}`", p.function, p.name));
    }
    let member = match &p.value {
        None => format!("{}?: {} | undefined", p.name, p.type_text()),
        Some(_) => format!("{}: {}", p.name, p.type_text()),
    };
    let last = props.last().ok_or_else(|| format!("`{}`'s props type is empty; a coder adds the parameter", p.function))?;
    let line_start = text[..last.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let mut end = last.end_byte();
    let separator = text[end..].chars().next().filter(|c| *c == ';' || *c == ',');
    if let Some(c) = separator {
        end += c.len_utf8();
    }
    let insert = if object.start_position().row == object.end_position().row {
        format!("{} {member}{}", if separator.is_some() { "" } else { ";" }, separator.map(String::from).unwrap_or_default())
    } else {
        format!("\n{}{member}{}", &text[line_start..last.start_byte()], separator.map_or(";".to_string(), String::from))
    };
    Ok(format!("{}{insert}{}", &text[..end], &text[end..]))
}

/// The file with `name: value` passed in every call of the function (`f({ … })`, `x.f({ … })`).
/// `Err`: the calls whose argument is not an object literal (`file:line`), which a coder
/// changes.
pub fn calls_edit(path: &str, text: &str, p: &AddParameter) -> Result<Option<String>, Vec<String>> {
    let Some(value) = &p.value else { return Ok(None) };
    let Some(tree) = maintaind_registry::parse_only(path, text.as_bytes()) else { return Ok(None) };
    let mut calls = Vec::new();
    all(tree.root_node(), &|n| n.kind() == "call_expression", &mut calls);
    let mut inserts = Vec::new();
    let mut refused = Vec::new();
    for call in calls {
        let Some(callee) = call.child_by_field_name("function") else { continue };
        let name = match callee.kind() {
            "identifier" => callee,
            "member_expression" => match callee.child_by_field_name("property") {
                Some(n) => n,
                None => continue,
            },
            _ => continue,
        };
        if text[name.byte_range()] != p.function {
            continue;
        }
        let object = call.child_by_field_name("arguments").and_then(|a| a.named_child(0)).filter(|a| a.kind() == "object");
        let Some(object) = object else {
            refused.push(format!("{path}:{}", call.start_position().row + 1));
            continue;
        };
        let mut cursor = object.walk();
        let has = object.named_children(&mut cursor).any(|c| match c.kind() {
            "pair" => c.child_by_field_name("key").is_some_and(|k| text[k.byte_range()] == p.name),
            "shorthand_property_identifier" => text[c.byte_range()] == p.name,
            _ => false,
        });
        if !has {
            inserts.push(append_entry(text, object, &format!("{}: {value}", p.name)));
        }
    }
    if !refused.is_empty() {
        return Err(refused);
    }
    if inserts.is_empty() {
        return Ok(None);
    }
    inserts.sort_by_key(|(at, _)| *at);
    let mut out = text.to_string();
    for (at, s) in inserts.into_iter().rev() {
        out.insert_str(at, &s);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDER: &str = "export async function postX(props: {\n  member: MemberPayload;\n  body: IX.ICreate;\n}): Promise<IX> {\n  return f(props);\n}\n";

    #[test]
    fn intents_are_read_exactly() {
        assert_eq!(AddParameter::of("postX", "add optional parameter `locale`"), Some(AddParameter { function: "postX".into(), name: "locale".into(), value: None }));
        assert_eq!(AddParameter::of("postX", "add parameter `sort` = \"asc\"").unwrap().value.as_deref(), Some("\"asc\""));
        assert_eq!(AddParameter::of("postX", "add parameter `sort`"), None, "a required parameter without a value is a coder's");
        assert_eq!(AddParameter::of("postX", "add parameter `sort` = asc"), None);
        assert_eq!(AddParameter::of("postX", "add parameter `a b` = 1"), None);
    }

    #[test]
    fn the_props_type_gets_the_property() {
        let p = AddParameter { function: "postX".into(), name: "channel".into(), value: Some("\"web\"".into()) };
        let out = declaration_edit("src/providers/postX.ts", PROVIDER, 1, &p).unwrap();
        assert!(out.contains("  body: IX.ICreate;\n  channel: string;\n}): Promise<IX>"), "{out}");
        let p = AddParameter { function: "postX".into(), name: "limit".into(), value: None };
        let out = declaration_edit("src/providers/postX.ts", PROVIDER, 1, &p).unwrap();
        assert!(out.contains("  limit?: number | undefined;\n}"), "{out}");
        let p = AddParameter { function: "postX".into(), name: "body".into(), value: None };
        assert!(declaration_edit("src/providers/postX.ts", PROVIDER, 1, &p).unwrap_err().contains("already takes `body`"));
        let bare = "export function postX(a: string) {}\n";
        assert!(declaration_edit("src/providers/postX.ts", bare, 1, &AddParameter { function: "postX".into(), name: "limit".into(), value: None }).unwrap_err().contains("one `props` object"));
    }

    #[test]
    fn every_call_passes_the_value() {
        let p = AddParameter { function: "postX".into(), name: "channel".into(), value: Some("\"web\"".into()) };
        let caller = "async function c() {\n  return await postX({\n    member,\n    body,\n  });\n}\nconst y = postX({ member, body });\n";
        let out = calls_edit("src/controllers/C.ts", caller, &p).unwrap().unwrap();
        assert!(out.contains("    body,\n    channel: \"web\",\n  });"), "{out}");
        assert!(out.contains("postX({ member, body, channel: \"web\" })"), "{out}");
        let spread = "const y = postX(args);\n";
        assert_eq!(calls_edit("src/controllers/C.ts", spread, &p), Err(vec!["src/controllers/C.ts:1".to_string()]));
    }
}
