// libFuzzer target for the whole front end: bytes -> diagnostics, or a
// compiled ruleset. The input is loaded as the site policy through the same
// loader as a file (includes, address files and all), projected for every host
// and phase as `check` does, and each projection is lowered, printed as nft
// text and encoded as the netlink batch `apply` would send to an empty kernel
// (built, never sent). Any crash, sanitizer report, leak or hang is a bug;
// diagnostics are the expected outcome for bad input. See docs/fuzzing.md.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "emit/netlink_diff.h"
#include "emit/netlink_objects.h"
#include "emit/nft_text.h"
#include "ir/lower.h"
#include "pipeline/projections.h"
#include "policy/load.h"
#include "resolve/projection.h"
#include "support/diagnostic.h"

namespace {

using namespace nftpolicy;

// The input poses as a file beside the shipped examples, so that an include
// of `inventory.toml` or of the `ses-evolution` profile reaches real files.
const std::string kPolicyPath = NFTPOLICY_FUZZ_POLICY_DIR "/examples/fuzz-input.toml";

// Interfaces do not depend on the machine: a name is "missing" (index 0, the
// error path of build_objects) for one name in four, deterministically.
std::uint32_t fake_interface_index(const std::string& name) {
    auto h = std::hash<std::string>{}(name);
    return h % 4 == 0 ? 0 : static_cast<std::uint32_t>(1 + h % 4096);
}

// What `apply` does after a projection: lower, print, encode.
void compile_projection(const resolve::Projection& projection) {
    ir::Table table = ir::lower(projection);
    std::string text = emit::nft_text(table);
    emit::ObjectOptions options;
    options.interface_index = fake_interface_index;
    auto desired = emit::build_objects(table, options);
    if (!desired) return;
    emit::Plan plan = emit::plan_commit(*desired, nullptr, 0);
    (void)plan.batch.byte_size();
}

// Every host (or none, for a host-less file) in every phase, as `check` does.
void compile_everything(const policy::Policy& policy) {
    pipeline::ProjectionVisitor visit;
    visit.projection = [](const std::string&, policy::Phase, Diagnostics& diags,
                          const std::optional<resolve::Projection>& projection) {
        (void)render_all(diags);
        if (projection) compile_projection(*projection);
    };
    pipeline::for_each_projection(policy, visit);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    policy::LoadOptions options;
    options.search_path = {NFTPOLICY_FUZZ_POLICY_DIR};
    SourceManager sources;
    Diagnostics diags;
    auto policy = policy::load_policy_text(kPolicyPath, std::move(text), options, sources, diags);
    (void)render_all(diags);  // rendering quotes source lines: part of the front end
    if (policy) compile_everything(*policy);
    return 0;
}
