//! `[roles]`: which operator names hold which role, and the role of a name not listed. `app` enforces the
//! role on every command; the console shows it in the header.

use serde::Deserialize;

use crate::domain::Role;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolesConfig {
    /// The role of an operator listed under no role. `admin`, so an install without `[roles]` works as before.
    pub default: Role,
    pub viewer: Vec<String>,
    pub warehouse: Vec<String>,
    pub ops: Vec<String>,
    pub admin: Vec<String>,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            default: Role::Admin,
            viewer: Vec::new(),
            warehouse: Vec::new(),
            ops: Vec::new(),
            admin: Vec::new(),
        }
    }
}

impl RolesConfig {
    /// Each role's list of names, in the table's order.
    fn lists(&self) -> [(Role, &[String]); 4] {
        [
            (Role::Viewer, &self.viewer),
            (Role::Warehouse, &self.warehouse),
            (Role::Ops, &self.ops),
            (Role::Admin, &self.admin),
        ]
    }

    /// The role of operator `name` (names compare trimmed and ignoring case, as people type them).
    pub fn role_of(&self, name: &str) -> Role {
        let name = name.trim();
        self.lists()
            .into_iter()
            .find(|(_, names)| names.iter().any(|n| n.trim().eq_ignore_ascii_case(name)))
            .map_or(self.default, |(role, _)| role)
    }

    /// Refuses an empty name and a name listed twice (under one role or two), naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen: Vec<(&str, Role)> = Vec::new();
        for (role, names) in self.lists() {
            for (i, name) in names.iter().enumerate() {
                let name = name.trim();
                if name.is_empty() {
                    return Err(format!("roles.{role}[{i}]: a name must not be empty"));
                }
                if let Some((_, first)) = seen.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    return Err(format!(
                        "roles.{role}[{i}]: '{name}' is already listed under roles.{first}; an operator has one role"
                    ));
                }
                seen.push((name, role));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_name_has_its_role_whatever_its_case_and_others_the_default() {
        let roles = RolesConfig {
            default: Role::Viewer,
            warehouse: vec!["Ana".into()],
            ..RolesConfig::default()
        };
        assert_eq!(roles.role_of(" ana "), Role::Warehouse);
        assert_eq!(roles.role_of("bo"), Role::Viewer);
        assert_eq!(RolesConfig::default().role_of("anyone"), Role::Admin);
    }
}
