# The VM's user-data: Alice's trusted template (dist/cloud-config/tokenclient.template.yaml, the text
# her console's cloudconfig.template check compares with) with its four {{holes}} filled by plain
# string replacement, so the VM runs exactly the text Alice trusts. Terraform's template syntax
# (`$${...}`) never appears in that file, and `replace` with a non-/regex/ pattern is literal.
# tui/tests/terraform_user_data.rs evaluates this expression and runs Alice's checks on the result.

locals {
  user_data = replace(replace(replace(replace(
    file("${path.module}/../../../../dist/cloud-config/tokenclient.template.yaml"),
    "{{server_address}}", var.tokenserver_address),
    "{{audience}}", var.audience),
    "{{image_repository}}", var.image_repository),
  "{{image_digest}}", var.image_digest)
}
