// `nftpolicy migration status|complete|reopen|set-phase`: the migration
// lifecycle (docs/migrations.md). The work is in migration/ (facts, evidence,
// flips); this file parses the command line and renders the results.
#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"
#include "cli/migration_render.h"
#include "kernel/apply_lock.h"
#include "kernel/element_cache.h"
#include "kernel/netlink_kernel.h"
#include "migration/flip.h"
#include "pipeline/apply.h"
#include "resolve/phases.h"
#include "service/confirm.h"
#include "state/site_state.h"
#include "support/text.h"

namespace nftpolicy::cli {

namespace {

struct MigrationArgs {
    PolicyArgs policy;
    KernelArgs kernel;
    std::string target;  // GATE or MIGRATION
    std::string phase;
    std::string quiet_for;
    std::size_t limit = 20;
    bool json = false;
    bool force = false;
    bool dry_run = false;
    bool cut_established = false;
};

// The loaded policy with the command line's options, or nullopt after
// printing why (and setting the exit code).
struct Loaded {
    std::unique_ptr<SourceManager> sources = std::make_unique<SourceManager>();
    policy::Policy policy;
    resolve::ResolveOptions cli;
};

std::optional<Loaded> load_policy(const MigrationArgs& args, int& exit_code) {
    if (!policy_file_readable(args.policy.policy)) {
        exit_code = exit_system;
        return std::nullopt;
    }
    Loaded out;
    auto policy = load(args.policy, *out.sources);
    if (!policy) {
        exit_code = exit_invalid_policy;
        return std::nullopt;
    }
    if (!args.policy.table.empty()) policy->table = args.policy.table;
    auto options = resolve_options(args.policy, *policy);
    if (!options) {
        exit_code = exit_usage;
        return std::nullopt;
    }
    out.policy = std::move(*policy);
    out.cli = std::move(*options);
    return out;
}

std::optional<std::uint32_t> quiet_for(const MigrationArgs& args, int& exit_code) {
    if (args.quiet_for.empty()) return std::nullopt;
    auto secs = parse_duration(args.quiet_for);
    if (!secs || *secs > policy::kMaxSeenTimeout) {
        std::cerr << fmt::format("nftpolicy: error: --quiet-for '{}': expected a duration like 24h, 2d or 90m "
                                 "(units d, h, m, s) up to 365d\n", args.quiet_for);
        exit_code = exit_usage;
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(*secs);
}

// A library error: bad requests are usage errors (2), the rest as usual.
void report(const Error& error, const Diagnostics& diags, int& exit_code) {
    if (diags.has_errors()) {
        exit_code = exit_invalid_policy;  // already printed with file:line:col
        return;
    }
    if (error.kind == ErrorKind::invalid) {
        std::cerr << "nftpolicy: error: " << error.message << '\n';
        exit_code = exit_usage;
        return;
    }
    report_error(error, exit_code);
}

void run_status(const MigrationArgs& args, int& exit_code) {
    auto q = quiet_for(args, exit_code);
    if (!args.quiet_for.empty() && !q) return;
    auto loaded = load_policy(args, exit_code);
    if (!loaded) return;
    auto st = state::read_state(state::state_path(args.kernel.state_dir));
    if (!st) return report_error(st.error(), exit_code);
    Diagnostics diags;
    auto facts = migration::gather_facts(loaded->policy, loaded->cli, *st, diags);
    print_diagnostics(diags);
    if (!facts) {
        exit_code = exit_invalid_policy;
        return;
    }
    auto k = kernel::NetlinkKernel::open();
    if (!k) return report_error(k.error(), exit_code);
    auto evidence = migration::read_evidence(**k, *facts, std::time(nullptr), q);
    if (!evidence) return report_error(evidence.error(), exit_code);
    if (args.json) {
        std::cout << status_json(*facts, *evidence).dump(2) << '\n';
    } else {
        std::cout << status_text(*facts, *evidence, args.limit);
    }
}

// A migration commit as the state directory keeps a confirmed ruleset.
service::SavedRuleset saved_of(const migration::Applied& a) {
    std::size_t flows = 0;  // a counter per flow, management included
    for (const auto& c : a.table.counters) flows += c.name.starts_with("flow_") ? 1 : 0;
    return {a.table, a.host, a.phases, a.flipped_gates, flows, kernel::ruleset_hash(a.table)};
}

// Keeps the apply record (for `nftpolicy status`) and the element cache in
// step with a commit, as apply does (pipeline::record_commit).
void after_commit(const MigrationArgs& args, const migration::Applied& applied, kernel::NetlinkKernel& k) {
    std::vector<std::string> warnings;
    const pipeline::Committed committed{applied.table, applied.host, applied.phases, applied.flipped_gates, nullptr,
                                        applied.notes};
    pipeline::record_commit(k, args.policy.policy, committed, args.kernel, applied.known_after, false, Sync::now,
                            warnings);
    // A migration step is confirmed at once: a later rollback restores it.
    if (auto kept = service::keep_confirmed(args.kernel.state_dir, saved_of(applied)); !kept) {
        warnings.push_back("last confirmed ruleset not saved: " + kept.error().message);
    }
    for (const auto& w : warnings) std::cerr << "nftpolicy: warning: " << w << '\n';
}

// The lockout guard and a pending confirmation refuse the commit, unless --force.
migration::CommitGuard commit_guard(const MigrationArgs& args) {
    if (args.force) return {};
    return [dir = args.kernel.state_dir](const ir::Table& table) -> std::optional<std::string> {
        auto refused = service::cli_guard(dir, table, ssh_connection(), false);
        if (!refused) return std::nullopt;
        return refused->message;
    };
}

// What the commands that change the kernel hold: the apply lock (not on a
// dry run), the loaded policy and the netlink socket.
struct Session {
    std::optional<kernel::ApplyLock> lock;
    Loaded loaded;
    std::unique_ptr<kernel::NetlinkKernel> kernel;
    std::optional<kernel::KnownElements> known;
};

std::optional<Session> open_session(const MigrationArgs& args, int& exit_code) {
    Session s;
    if (!args.dry_run) {
        auto l = kernel::ApplyLock::acquire(args.kernel.lock, args.kernel.lock_timeout);
        if (!l) {
            report_error(l.error(), exit_code);
            return std::nullopt;
        }
        s.lock.emplace(std::move(*l));
    }
    auto loaded = load_policy(args, exit_code);
    if (!loaded) return std::nullopt;
    s.loaded = std::move(*loaded);
    auto k = kernel::NetlinkKernel::open();
    if (!k) {
        report_error(k.error(), exit_code);
        return std::nullopt;
    }
    s.kernel = std::move(*k);
    if (auto known = kernel::read_known(args.kernel.elements_path())) s.known = std::move(*known);
    return s;
}

void run_flip(const MigrationArgs& args, bool complete, int& exit_code) {
    migration::FlipRequest req;
    req.quiet_for = quiet_for(args, exit_code);
    if (!args.quiet_for.empty() && !req.quiet_for) return;
    auto s = open_session(args, exit_code);
    if (!s) return;
    req.gate = args.target;
    req.complete = complete;
    req.force = args.force;
    req.dry_run = args.dry_run;
    req.cut_established = args.cut_established;
    req.now = std::time(nullptr);
    req.state_path = state::state_path(args.kernel.state_dir);
    req.known = std::move(s->known);
    req.guard = commit_guard(args);
    Diagnostics diags;
    auto out = migration::flip_gate(*s->kernel, s->loaded.policy, s->loaded.cli, req, diags);
    print_diagnostics(diags);
    if (!out) return report(out.error(), diags, exit_code);
    exit_code = print_flip(req, *out);
    if (out->applied) after_commit(args, *out->applied, *s->kernel);
}

void run_set_phase(const MigrationArgs& args, int& exit_code) {
    auto phase = policy::phase_from_name(args.phase);
    if (!phase) {
        std::cerr << fmt::format("nftpolicy: error: unknown phase '{}'; expected legacy, coexist or final\n", args.phase);
        exit_code = exit_usage;
        return;
    }
    auto s = open_session(args, exit_code);
    if (!s) return;
    migration::PhaseRequest req{args.target, *phase, args.dry_run, std::time(nullptr),
                                state::state_path(args.kernel.state_dir), std::move(s->known), commit_guard(args)};
    Diagnostics diags;
    auto out = migration::set_phase(*s->kernel, s->loaded.policy, s->loaded.cli, req, diags);
    print_diagnostics(diags);
    if (!out) return report(out.error(), diags, exit_code);
    print_set_phase(req, *out);
    if (out->applied) after_commit(args, *out->applied, *s->kernel);
}

void add_options(CLI::App& cmd, MigrationArgs& args) {
    add_policy_file_options(cmd, args.policy);
    cmd.add_option("--host", args.policy.host, "the [hosts.NAME] this machine is (default: the only host, or "
                                               "this machine's hostname)");
    add_table_option(cmd, args.policy.table, "name of the inet table nftpolicy owns (default: [settings] table, "
                                              "else nftpolicy)");
    add_kernel_options(cmd, args.kernel);
}

void add_guard_force(CLI::App& cmd, MigrationArgs& args) {
    cmd.add_flag("--force", args.force, "commit even while a confirmation is pending, or a ruleset that cuts "
                                        "management access");
}

void register_status_cmd(CLI::App& parent, int& exit_code) {
    auto args = std::make_shared<MigrationArgs>();
    auto* cmd = parent.add_subcommand("status", "per gate: flows it retires, their counters, who still uses them, "
                                                "and whether it is safe to flip");
    add_options(*cmd, *args);
    cmd->add_flag("--json", args->json, "print the status as JSON (docs/migrations.md)");
    cmd->add_option("--quiet-for", args->quiet_for, "window without legacy use that makes a gate safe "
                                                    "(default: the migration's quiet_for, else 24h)");
    cmd->add_option("--limit", args->limit, "addresses listed per gate in the text form (0: all)")
        ->capture_default_str();
    cmd->callback([args, &exit_code] { run_status(*args, exit_code); });
}

void register_flip_cmd(CLI::App& parent, bool complete, int& exit_code) {
    auto args = std::make_shared<MigrationArgs>();
    auto* cmd = complete ? parent.add_subcommand("complete", "flip GATE: remove exactly the flows it retires, in "
                                                             "one transaction; refused while they have recent users")
                         : parent.add_subcommand("reopen", "undo a flip: bring back the flows GATE retires, in one "
                                                           "transaction");
    cmd->add_option("GATE", args->target, "MIGRATION.GATE")->required();
    add_options(*cmd, *args);
    cmd->add_flag("--dry-run", args->dry_run, complete ? "print what would be removed and who would be cut"
                                                       : "print what would come back");
    if (complete) {
        cmd->add_option("--quiet-for", args->quiet_for, "refuse while a retired flow was used within this window "
                                                        "(default: the migration's quiet_for, else 24h)");
        cmd->add_flag("--force", args->force, "complete despite recent users or incomplete evidence, a pending "
                                              "confirmation or a ruleset that cuts management access");
        cmd->add_flag("--cut-established", args->cut_established,
                      "after the commit, delete the conntrack entries of connections the retired flows accepted");
    } else {
        add_guard_force(*cmd, *args);
    }
    cmd->callback([args, complete, &exit_code] { run_flip(*args, complete, exit_code); });
}

void register_set_phase_cmd(CLI::App& parent, int& exit_code) {
    auto args = std::make_shared<MigrationArgs>();
    auto* cmd = parent.add_subcommand("set-phase", "record the phase of MIGRATION and apply it, in one command");
    cmd->add_option("MIGRATION", args->target, "the migration")->required();
    cmd->add_option("PHASE", args->phase, "legacy, coexist or final")->required();
    add_options(*cmd, *args);
    cmd->add_flag("--dry-run", args->dry_run, "print what would change; change nothing");
    add_guard_force(*cmd, *args);
    cmd->callback([args, &exit_code] { run_set_phase(*args, exit_code); });
}

}  // namespace

void register_migration(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("migration", "run a migration: status, complete/reopen a gate, set-phase");
    cmd->require_subcommand(1);
    register_status_cmd(*cmd, exit_code);
    register_flip_cmd(*cmd, true, exit_code);
    register_flip_cmd(*cmd, false, exit_code);
    register_set_phase_cmd(*cmd, exit_code);
}

}  // namespace nftpolicy::cli
