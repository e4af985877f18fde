//! `terraform/` is consistent without `terraform validate` (which needs providers this machine
//! cannot download): every `var.X`, `local.X`, `module.M.O`, resource and data-source reference is
//! declared, every variable has a description, and module calls pass exactly the modules' variables.
//! The small inline modules show that the check fails on each of those mistakes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod terraform_lint;

use std::path::Path;

use terraform_lint::{Problem, check_tree};

fn repo_terraform() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../terraform")
}

/// Writes `files` (relative path → text) into a temporary tree and checks it.
fn check_files(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<Problem>) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let problems = check_tree(dir.path());
    (dir, problems)
}

const CHILD: &str = r#"
variable "name" {
  description = "A name."
  type        = string
}

output "id" {
  description = "The id."
  value       = var.name
}
"#;

/// A root calling ./child, with `extra` appended.
fn root_with(extra: &str) -> String {
    format!(
        r#"
variable "project" {{
  description = "The project."
  type        = string
}}

locals {{
  names = [for n in [var.project] : upper(n)]
}}

resource "google_service_account" "sa" {{
  account_id = var.project
}}

data "google_project" "this" {{
  project_id = var.project
}}

module "child" {{
  source = "./child"
  name   = "${{google_service_account.sa.email}}-${{data.google_project.this.number}}"
}}

output "child_id" {{
  description = "The child's id."
  value       = [module.child.id, local.names, {{ for k, v in {{ a = 1 }} : k => v }}]
}}
{extra}"#
    )
}

fn problems_with(extra: &str) -> Vec<String> {
    let root = root_with(extra);
    let (_dir, problems) = check_files(&[("main.tf", &root), ("child/main.tf", CHILD)]);
    problems.iter().map(ToString::to_string).collect()
}

fn only_problem(extra: &str, expected: &str) {
    let problems = problems_with(extra);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains(expected), "{problems:#?}");
}

#[test]
fn a_consistent_tree_has_no_problems() {
    assert_eq!(problems_with(""), Vec::<String>::new());
}

#[test]
fn an_undeclared_variable_is_found_in_a_template_string() {
    only_problem(
        r#"output "x" {
  description = "x"
  value       = "prefix-${var.missing}"
}"#,
        "var.missing has no variable block",
    );
}

#[test]
fn a_module_output_the_module_does_not_have_is_found() {
    only_problem(
        r#"output "x" {
  description = "x"
  value       = module.child.instance_id
}"#,
        "module.child.instance_id: the module has no output \"instance_id\"",
    );
}

#[test]
fn a_module_output_behind_a_splat_is_checked_too() {
    only_problem(
        r#"output "x" {
  description = "x"
  value       = one(module.child[*].nope)
}"#,
        "the module has no output \"nope\"",
    );
}

#[test]
fn an_uncalled_module_is_found() {
    only_problem(
        r#"output "x" {
  description = "x"
  value       = module.other.id
}"#,
        "module.other is not called",
    );
}

#[test]
fn an_undeclared_resource_is_found() {
    only_problem(
        r#"resource "google_project_iam_member" "m" {
  member = "serviceAccount:${google_service_account.other.email}"
}"#,
        "google_service_account.other is not declared",
    );
}

#[test]
fn an_undeclared_data_source_is_found() {
    only_problem(
        r#"output "x" {
  description = "x"
  value       = data.google_project.other.number
}"#,
        "data.google_project.other is not declared",
    );
}

#[test]
fn a_variable_without_a_description_is_found() {
    only_problem(
        r#"variable "bare" {
  type = string
  default = "x"
}"#,
        "variable \"bare\" has no description",
    );
}

#[test]
fn an_undeclared_local_is_found() {
    only_problem(
        r#"output "x" {
  description = "x"
  value       = local.nope
}"#,
        "local.nope is not defined",
    );
}

#[test]
fn module_arguments_must_match_the_modules_variables() {
    let root = root_with("").replace("  name   = ", "  colour = \"red\"\n  title  = ");
    let (_dir, problems) = check_files(&[("main.tf", &root), ("child/main.tf", CHILD)]);
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(
        text.iter().any(|p| p.contains("is passed \"colour\"")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|p| p.contains("is passed \"title\"")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|p| p.contains("requires \"name\"")),
        "{text:#?}"
    );
}

#[test]
fn iterators_of_for_expressions_and_dynamic_blocks_are_in_scope_only_inside() {
    only_problem(
        r#"resource "google_compute_instance" "vm" {
  dynamic "access_config" {
    for_each = [for ip in [var.project] : ip]
    content {
      nat_ip = access_config.value
    }
  }
  name = access_config.value
}"#,
        "access_config.value is not declared",
    );
}

#[test]
fn every_module_under_terraform_is_consistent() {
    let root = repo_terraform();
    assert!(root.join("alice/main.tf").is_file(), "{}", root.display());
    assert!(root.join("bob/main.tf").is_file(), "{}", root.display());
    let problems: Vec<String> = check_tree(&root).iter().map(ToString::to_string).collect();
    assert_eq!(problems, Vec::<String>::new());
}
