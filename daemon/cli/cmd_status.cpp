// `nftpolicy status`: whether our table is in the kernel, the ruleset
// generation, what the last apply committed (policy, host, phases, gates,
// ruleset hash; from the state directory), a pending confirmation (deadline,
// what a rollback restores) and the counter of every flow.
#include <algorithm>
#include <ctime>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <linux/netfilter/nf_tables.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"
#include "ir/lower.h"
#include "service/confirm.h"

namespace nftpolicy::cli {

namespace {

struct StatusArgs {
    KernelArgs kernel;
    std::string table;
    bool json = false;
};

// The "version" of `status --json` (docs/schemas/status.schema.json): raised
// when a key is removed or changes meaning.
constexpr int kStatusJsonVersion = 1;

nlohmann::json to_json(const kernel::KernelView& view, const std::string& table,
                       const std::optional<kernel::ApplyRecord>& record) {
    nlohmann::json out{{"version", kStatusJsonVersion},
                       {"table", table},
                       {"present", view.table.has_value()},
                       {"generation", view.genid}};
    if (record) {
        out["last_apply"] = {{"policy", record->policy},       {"host", record->host},
                             {"phases", record->phases},       {"gates", record->gates},
                             {"ruleset_hash", record->ruleset_hash}, {"generation", record->genid},
                             {"applied_at", record->applied_at}};
    }
    nlohmann::json counters = nlohmann::json::object();
    if (view.table) {
        for (const auto& c : view.table->counters) {
            counters[ir::flow_of_counter(c.name)] = {{"counter", c.name}, {"packets", c.packets}, {"bytes", c.bytes}};
        }
    }
    out["flows"] = counters;
    return out;
}

using Confirmation = std::optional<service::ConfirmRecord>;

std::int64_t seconds_left(const service::ConfirmRecord& r) {
    return std::max<std::int64_t>(r.deadline - service::wall_now(), 0);
}

nlohmann::json confirmation_json(const service::ConfirmRecord& r) {
    const bool pending = r.state == service::ConfirmState::pending;
    nlohmann::json out{{"state", pending ? "pending" : "rolled-back"},
                       {"armed_at", r.armed},
                       {"deadline", r.deadline},
                       {"seconds_left", pending ? seconds_left(r) : 0},
                       {"applied_hash", r.applied},
                       {"restore_hash", r.restore},
                       {"policy", r.policy},
                       {"enforcer", service::enforcer_name(r.enforcer)}};
    if (!pending) {
        out["rolled_back_at"] = r.rolled_back_at;
        out["reason"] = r.reason;
    }
    return out;
}

std::string confirmation_text(const service::ConfirmRecord& r) {
    if (r.state == service::ConfirmState::rolled_back) {
        return fmt::format("confirmation: ROLLED BACK at {} ({}): ruleset {} of {} was not confirmed; the last "
                           "confirmed ruleset {} was restored\n",
                           service::format_time(r.rolled_back_at), r.reason, r.applied,
                           service::format_time(r.armed), r.restore);
    }
    return fmt::format("confirmation: PENDING until {} ({} s left; enforced by {}): without `nftpolicy confirm`, "
                       "ruleset {} goes and the last confirmed ruleset {} comes back\n",
                       service::format_time(r.deadline), seconds_left(r), service::enforcer_name(r.enforcer),
                       r.applied, r.restore);
}

void print_text(const kernel::KernelView& view, const std::string& table,
                const std::optional<kernel::ApplyRecord>& record) {
    std::cout << fmt::format("table inet {}: {} (ruleset generation {})\n", table,
                             view.table ? "present" : "absent", view.genid);
    if (record) {
        std::cout << fmt::format("last apply: {} host {} phases [{}] gates [{}]\n", record->policy, record->host,
                                 fmt::join(record->phases, ", "), fmt::join(record->gates, ", "));
        std::cout << fmt::format("ruleset hash {} at generation {}\n", record->ruleset_hash, record->genid);
        for (const auto& n : record->notes) std::cout << "note: " << n << '\n';
    } else {
        std::cout << "last apply: none recorded\n";
    }
    if (!view.table) return;
    // The gateway fast path ([baseline] flowtable), when the kernel holds it.
    for (const auto& f : view.table->flowtables) {
        std::cout << fmt::format("flowtable {}: {}{}\n", f.name, fmt::join(f.devices, ", "),
                                 (f.flags & NFT_FLOWTABLE_COUNTER) != 0 ? " (counter)" : "");
    }
    for (const auto& c : view.table->counters) {
        std::cout << fmt::format("flow {}: {} packets, {} bytes\n", ir::flow_of_counter(c.name), c.packets, c.bytes);
    }
}

void run(const StatusArgs& args, int& exit_code) {
    auto confirmation = service::read_confirm(service::confirm_path(args.kernel.state_dir));
    if (!confirmation) return report_error(confirmation.error(), exit_code);
    auto status = pipeline::status(args.kernel, args.table);
    if (!status) return report_error(status.error(), exit_code);
    if (args.json) {
        auto doc = to_json(status->view, status->table, status->record);
        if (*confirmation) doc["confirmation"] = confirmation_json(**confirmation);
        std::cout << doc.dump(2) << '\n';
    } else {
        print_text(status->view, status->table, status->record);
        if (*confirmation) std::cout << confirmation_text(**confirmation);
    }
}

}  // namespace

void register_status(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<StatusArgs>();
    auto* cmd = app.add_subcommand("status", "show our table in the kernel, the last apply and flow counters");
    add_kernel_options(*cmd, args->kernel);
    add_table_option(*cmd, args->table, "inet table to inspect (default: the one last applied, or nftpolicy)");
    cmd->add_flag("--json", args->json, "print the status as JSON");
    cmd->callback([args, &exit_code] { run(*args, exit_code); });
}

}  // namespace nftpolicy::cli
