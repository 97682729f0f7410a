// A policy that declares nothing to compile is an error, not a valid policy:
// it is what a configuration template that rendered empty, or a file cut off
// before its first table, looks like, and applying it would commit a
// default-drop table with no way in. See docs/policy-language.md, "Empty
// policies".
#pragma once

#include "policy/model.h"
#include "support/diagnostic.h"
#include "support/source.h"

namespace nftpolicy::policy {

// Reports an error at `top`:1:1 when `policy` (the top file `top` merged
// with its includes) declares no host, flow, group, service, migration or
// management. False after reporting.
bool check_declares_something(const Policy& policy, const SourceFile& top, Diagnostics& diags);

}  // namespace nftpolicy::policy
