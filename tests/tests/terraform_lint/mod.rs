//! A static reference check of a tree of Terraform modules (each directory of `.tf` files is one
//! module), standing in for `terraform validate`, which needs providers this machine cannot download.
//! It parses every `.tf` file with `hcl-rs` and finds: `var.X` without a `variable "X"` block in the
//! module, `local.X` without a local, `module.M.O` whose module `M` is not called or has no output
//! `O`, `TYPE.NAME` / `data.TYPE.NAME` without its resource or data block, a variable without a
//! description, and module calls passing an argument the module does not declare or leaving out one
//! it requires.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use hcl::expr::{Expression, ObjectKey, Operation, TemplateExpr, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Block, BlockLabel, Body, Structure};

/// Names every expression may start with besides `var`, `local`, `module` and `data`.
const BUILTIN_ROOTS: [&str; 5] = ["path", "count", "each", "self", "terraform"];
/// Arguments of a `module` block that are not the module's variables.
const META_ARGUMENTS: [&str; 6] = [
    "source",
    "version",
    "count",
    "for_each",
    "depends_on",
    "providers",
];

/// One mistake, with the file it is in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    Unparsable {
        file: PathBuf,
        reason: String,
    },
    UndeclaredVariable {
        file: PathBuf,
        name: String,
    },
    UndeclaredLocal {
        file: PathBuf,
        name: String,
    },
    UnknownModule {
        file: PathBuf,
        name: String,
    },
    MissingModuleOutput {
        file: PathBuf,
        module: String,
        output: String,
    },
    UnknownModuleArgument {
        file: PathBuf,
        module: String,
        argument: String,
    },
    MissingModuleArgument {
        file: PathBuf,
        module: String,
        argument: String,
    },
    UnresolvedModuleSource {
        file: PathBuf,
        module: String,
    },
    UndeclaredResource {
        file: PathBuf,
        address: String,
    },
    UndeclaredDataSource {
        file: PathBuf,
        address: String,
    },
    VariableWithoutDescription {
        file: PathBuf,
        name: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unparsable { file, reason } => {
                write!(f, "{}: not valid HCL: {reason}", file.display())
            }
            Problem::UndeclaredVariable { file, name } => {
                write!(f, "{}: var.{name} has no variable block", file.display())
            }
            Problem::UndeclaredLocal { file, name } => {
                write!(f, "{}: local.{name} is not defined", file.display())
            }
            Problem::UnknownModule { file, name } => {
                write!(f, "{}: module.{name} is not called", file.display())
            }
            Problem::MissingModuleOutput {
                file,
                module,
                output,
            } => write!(
                f,
                "{}: module.{module}.{output}: the module has no output {output:?}",
                file.display()
            ),
            Problem::UnknownModuleArgument {
                file,
                module,
                argument,
            } => write!(
                f,
                "{}: module {module:?} is passed {argument:?}, which it does not declare",
                file.display()
            ),
            Problem::MissingModuleArgument {
                file,
                module,
                argument,
            } => write!(
                f,
                "{}: module {module:?} requires {argument:?}, which is not passed",
                file.display()
            ),
            Problem::UnresolvedModuleSource { file, module } => write!(
                f,
                "{}: module {module:?} has no local source directory with .tf files",
                file.display()
            ),
            Problem::UndeclaredResource { file, address } => {
                write!(f, "{}: {address} is not declared", file.display())
            }
            Problem::UndeclaredDataSource { file, address } => {
                write!(f, "{}: data.{address} is not declared", file.display())
            }
            Problem::VariableWithoutDescription { file, name } => {
                write!(
                    f,
                    "{}: variable {name:?} has no description",
                    file.display()
                )
            }
        }
    }
}

/// What one module declares and where its files are.
#[derive(Debug, Default)]
struct Module {
    files: Vec<(PathBuf, Body)>,
    /// Variable name → has a default.
    variables: BTreeMap<String, bool>,
    locals: BTreeSet<String>,
    outputs: BTreeSet<String>,
    resources: BTreeSet<String>,
    data_sources: BTreeSet<String>,
    /// Called module name → its source directory (None when not a local path).
    calls: BTreeMap<String, Option<PathBuf>>,
}

/// Every problem in the modules under `root` (each directory holding `.tf` files), sorted.
pub fn check_tree(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut modules = BTreeMap::new();
    for dir in module_dirs(root) {
        modules.insert(dir.clone(), load_module(&dir, &mut problems));
    }
    for module in modules.values() {
        check_module(module, &modules, &mut problems);
    }
    problems.sort();
    problems.dedup();
    problems
}

/// Directories under `root` (itself included) holding at least one `.tf` file.
fn module_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut has_tf = false;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with(".terraform") {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            dirs.push(canonical(&dir));
        }
    }
    dirs
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn label(block: &Block, index: usize) -> String {
    match block.labels.get(index) {
        Some(BlockLabel::String(text)) => text.clone(),
        Some(BlockLabel::Identifier(ident)) => ident.to_string(),
        None => String::new(),
    }
}

fn attribute<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == key)
        .map(|a| &a.expr)
}

fn load_module(dir: &Path, problems: &mut Vec<Problem>) -> Module {
    let mut module = Module::default();
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    names.sort();
    for file in names {
        let text = std::fs::read_to_string(&file).unwrap();
        match hcl::parse(&text) {
            Ok(body) => {
                declare(&mut module, dir, &file, &body, problems);
                module.files.push((file, body));
            }
            Err(e) => problems.push(Problem::Unparsable {
                file,
                reason: e.to_string(),
            }),
        }
    }
    module
}

/// Records what `body` declares; flags variables without a description.
fn declare(module: &mut Module, dir: &Path, file: &Path, body: &Body, problems: &mut Vec<Problem>) {
    for block in body.blocks() {
        let (first, second) = (label(block, 0), label(block, 1));
        match block.identifier.as_str() {
            "variable" => {
                if !matches!(attribute(&block.body, "description"), Some(Expression::String(s)) if !s.trim().is_empty())
                {
                    problems.push(Problem::VariableWithoutDescription {
                        file: file.to_path_buf(),
                        name: first.clone(),
                    });
                }
                let has_default = attribute(&block.body, "default").is_some();
                module.variables.insert(first, has_default);
            }
            "locals" => module
                .locals
                .extend(block.body.attributes().map(|a| a.key.to_string())),
            "output" => {
                module.outputs.insert(first);
            }
            "resource" => {
                module.resources.insert(format!("{first}.{second}"));
            }
            "data" => {
                module.data_sources.insert(format!("{first}.{second}"));
            }
            "module" => {
                let source = match attribute(&block.body, "source") {
                    Some(Expression::String(s)) if s.starts_with("./") || s.starts_with("../") => {
                        Some(canonical(&dir.join(s)))
                    }
                    _ => None,
                };
                module.calls.insert(first, source);
            }
            _ => {}
        }
    }
}

fn check_module(module: &Module, modules: &BTreeMap<PathBuf, Module>, problems: &mut Vec<Problem>) {
    for (file, body) in &module.files {
        let mut checker = Checker {
            module,
            modules,
            file,
            scope: Vec::new(),
            problems,
        };
        checker.body(body);
        for block in body.blocks().filter(|b| b.identifier.as_str() == "module") {
            checker.module_call(block);
        }
    }
}

/// Walks one file's expressions with the names in scope (for-expression and dynamic-block iterators).
struct Checker<'a> {
    module: &'a Module,
    modules: &'a BTreeMap<PathBuf, Module>,
    file: &'a Path,
    scope: Vec<String>,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    fn body(&mut self, body: &Body) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(a) if a.key.as_str() == "ignore_changes" => {}
                Structure::Attribute(a) => self.expr(&a.expr),
                Structure::Block(block) if block.identifier.as_str() == "dynamic" => {
                    let iterator = match attribute(&block.body, "iterator") {
                        Some(Expression::Variable(v)) => v.to_string(),
                        _ => label(block, 0),
                    };
                    self.scope.push(iterator);
                    self.body(&block.body);
                    self.scope.pop();
                }
                Structure::Block(block) if block.identifier.as_str() == "variable" => {
                    // `type = list(string)` is a type constraint, not references.
                    let type_free: Body = block
                        .body
                        .iter()
                        .filter(
                            |s| !matches!(s, Structure::Attribute(a) if a.key.as_str() == "type"),
                        )
                        .cloned()
                        .collect();
                    self.body(&type_free);
                }
                Structure::Block(block) => self.body(&block.body),
            }
        }
    }

    fn module_call(&mut self, block: &Block) {
        let name = label(block, 0);
        let file = self.file.to_path_buf();
        let target = self.module.calls.get(&name).cloned().flatten();
        let Some(target) = target.and_then(|dir| self.modules.get(&dir)) else {
            self.problems
                .push(Problem::UnresolvedModuleSource { file, module: name });
            return;
        };
        let passed: BTreeSet<String> = block.body.attributes().map(|a| a.key.to_string()).collect();
        for argument in passed
            .iter()
            .filter(|a| !META_ARGUMENTS.contains(&a.as_str()))
        {
            if !target.variables.contains_key(argument) {
                self.problems.push(Problem::UnknownModuleArgument {
                    file: file.clone(),
                    module: name.clone(),
                    argument: argument.clone(),
                });
            }
        }
        for (argument, has_default) in &target.variables {
            if !has_default && !passed.contains(argument) {
                self.problems.push(Problem::MissingModuleArgument {
                    file: file.clone(),
                    module: name.clone(),
                    argument: argument.clone(),
                });
            }
        }
    }

    fn expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Array(items) => items.iter().for_each(|e| self.expr(e)),
            Expression::Object(object) => {
                for (key, value) in object {
                    if let ObjectKey::Expression(key) = key {
                        self.expr(key);
                    }
                    self.expr(value);
                }
            }
            Expression::TemplateExpr(template) => self.template_expr(template),
            Expression::Variable(root) => self.reference(root.as_str(), &[]),
            Expression::Traversal(traversal) => {
                for operator in &traversal.operators {
                    if let TraversalOperator::Index(index) = operator {
                        self.expr(index);
                    }
                }
                match &traversal.expr {
                    Expression::Variable(root) => {
                        self.reference(root.as_str(), &traversal.operators)
                    }
                    other => self.expr(other),
                }
            }
            Expression::FuncCall(call) => call.args.iter().for_each(|e| self.expr(e)),
            Expression::Parenthesis(inner) => self.expr(inner),
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr);
                self.expr(&c.true_expr);
                self.expr(&c.false_expr);
            }
            Expression::Operation(operation) => match operation.as_ref() {
                Operation::Unary(op) => self.expr(&op.expr),
                Operation::Binary(op) => {
                    self.expr(&op.lhs_expr);
                    self.expr(&op.rhs_expr);
                }
            },
            Expression::ForExpr(for_expr) => {
                self.expr(&for_expr.collection_expr);
                let vars: Vec<String> = for_expr
                    .key_var
                    .iter()
                    .chain([&for_expr.value_var])
                    .map(|v| v.to_string())
                    .collect();
                let depth = self.scope.len();
                self.scope.extend(vars);
                self.expr(&for_expr.value_expr);
                for part in [&for_expr.key_expr, &for_expr.cond_expr]
                    .into_iter()
                    .flatten()
                {
                    self.expr(part);
                }
                self.scope.truncate(depth);
            }
            _ => {}
        }
    }

    fn template_expr(&mut self, template: &TemplateExpr) {
        match Template::from_expr(template) {
            Ok(template) => self.template(&template),
            Err(e) => self.problems.push(Problem::Unparsable {
                file: self.file.to_path_buf(),
                reason: e.to_string(),
            }),
        }
    }

    fn template(&mut self, template: &Template) {
        for element in template.elements() {
            match element {
                Element::Literal(_) => {}
                Element::Interpolation(interpolation) => self.expr(&interpolation.expr),
                Element::Directive(directive) => match directive.as_ref() {
                    Directive::If(d) => {
                        self.expr(&d.cond_expr);
                        self.template(&d.true_template);
                        if let Some(t) = &d.false_template {
                            self.template(t);
                        }
                    }
                    Directive::For(d) => {
                        self.expr(&d.collection_expr);
                        let depth = self.scope.len();
                        self.scope.extend(d.key_var.iter().map(|v| v.to_string()));
                        self.scope.push(d.value_var.to_string());
                        self.template(&d.template);
                        self.scope.truncate(depth);
                    }
                },
            }
        }
    }

    /// Checks a reference rooted at `root`, followed by `operators`.
    fn reference(&mut self, root: &str, operators: &[TraversalOperator]) {
        if BUILTIN_ROOTS.contains(&root) || self.scope.iter().any(|s| s == root) {
            return;
        }
        let names = attribute_names(operators);
        let file = self.file.to_path_buf();
        let first = names.first().cloned().unwrap_or_default();
        let problem = match root {
            "var" if !self.module.variables.contains_key(&first) => {
                Some(Problem::UndeclaredVariable { file, name: first })
            }
            "local" if !self.module.locals.contains(&first) => {
                Some(Problem::UndeclaredLocal { file, name: first })
            }
            "module" => self.module_output(file, &first, operators),
            "data" => {
                let address = names.iter().take(2).cloned().collect::<Vec<_>>().join(".");
                (!self.module.data_sources.contains(&address))
                    .then_some(Problem::UndeclaredDataSource { file, address })
            }
            "var" | "local" => None,
            resource_type => {
                let address = format!("{resource_type}.{first}");
                (!self.module.resources.contains(&address))
                    .then_some(Problem::UndeclaredResource { file, address })
            }
        };
        self.problems.extend(problem);
    }

    /// `module.NAME[...].OUTPUT`: the module is called and has that output.
    fn module_output(
        &self,
        file: PathBuf,
        name: &str,
        operators: &[TraversalOperator],
    ) -> Option<Problem> {
        let Some(call) = self.module.calls.get(name) else {
            return Some(Problem::UnknownModule {
                file,
                name: name.to_owned(),
            });
        };
        // The output is the first attribute after the module's name (indexes and splats between).
        let output = attribute_names(operators).get(1).cloned()?;
        let target = call.as_ref().and_then(|dir| self.modules.get(dir))?;
        (!target.outputs.contains(&output)).then(|| Problem::MissingModuleOutput {
            file,
            module: name.to_owned(),
            output,
        })
    }
}

/// The attribute names in a traversal, in order (indexes and splats skipped).
fn attribute_names(operators: &[TraversalOperator]) -> Vec<String> {
    operators
        .iter()
        .filter_map(|o| match o {
            TraversalOperator::GetAttr(name) => Some(name.to_string()),
            _ => None,
        })
        .collect()
}
