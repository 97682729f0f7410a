// Service lookup with the built-in `ssh`.
#include "resolve/services.h"

#include "resolve/suggest.h"

namespace nftpolicy::resolve {

namespace {

constexpr const char* kServiceSsh = "ssh";

}  // namespace

ServiceTable::ServiceTable(const policy::Policy& policy) : policy_(policy) {
    ssh_.name = kServiceSsh;
    ssh_.tcp.push_back(policy::PortRange{22, 22, {}});
    ssh_.comment = "built-in ssh";
}

const policy::Service* ServiceTable::find(const policy::NameRef& ref, Diagnostics& diags) const {
    auto it = policy_.services.find(ref.name);
    if (it != policy_.services.end()) return &it->second;
    if (ref.name == kServiceSsh) return &ssh_;
    std::vector<std::string> names = keys_of(policy_.services);
    if (!policy_.services.count(kServiceSsh)) names.push_back(kServiceSsh);
    diags.error(ref.span, "unknown service '" + ref.name + "'" + did_you_mean(ref.name, names));
    return nullptr;
}

std::optional<std::vector<const policy::Service*>> ServiceTable::find_all(
    const std::vector<policy::NameRef>& refs, Diagnostics& diags) const {
    std::vector<const policy::Service*> out;
    bool ok = true;
    for (const auto& ref : refs) {
        const policy::Service* service = find(ref, diags);
        ok = ok && service != nullptr;
        if (service) out.push_back(service);
    }
    if (!ok) return std::nullopt;
    return out;
}

}  // namespace nftpolicy::resolve
