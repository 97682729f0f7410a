// Reading our table from the kernel: a generation-consistent set of dumps
// (tables, chains, rules, sets, set elements, counters, flowtables) turned into an
// emit::ObservedTable. Every dump message carries the generation (low 16 bits
// in nfgenmsg.res_id); if it differs from the one read first, the ruleset
// changed under us and the whole read starts again.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <span>

#include "emit/nftnl_handles.h"
#include "kernel/netlink_io.h"
#include "kernel/netlink_kernel.h"

namespace nftpolicy::kernel {

namespace {

using emit::KeyElem;
using emit::MapElem;
using emit::ObservedTable;
using emit::SetDef;

std::vector<std::uint8_t> bytes_of(const void* data, std::uint32_t len) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    return {p, p + len};
}

// One element of an element dump.
struct RawElem {
    emit::U128 key = 0;
    emit::U128 key_end = 0;
    std::uint32_t flags = 0;
    std::int32_t verdict = 0;
    std::string chain;
};

emit::U128 data_value(const nlattr* nest) {
    emit::U128 v = 0;
    detail::for_each_nested(nest, [&v](const nlattr* a) {
        if (mnl_attr_get_type(a) == NFTA_DATA_VALUE) v = emit::key_from_bytes(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
    });
    return v;
}

void parse_verdict(const nlattr* data, RawElem& e) {
    detail::for_each_nested(data, [&e](const nlattr* v) {
        if (mnl_attr_get_type(v) != NFTA_DATA_VERDICT) return;
        detail::for_each_nested(v, [&e](const nlattr* f) {
            if (mnl_attr_get_type(f) == NFTA_VERDICT_CODE) e.verdict = static_cast<std::int32_t>(ntohl(mnl_attr_get_u32(f)));
            if (mnl_attr_get_type(f) == NFTA_VERDICT_CHAIN) e.chain = mnl_attr_get_str(f);
        });
    });
}

RawElem parse_element(const nlattr* elem) {
    RawElem e;
    detail::for_each_nested(elem, [&e](const nlattr* f) {
        switch (mnl_attr_get_type(f)) {
            case NFTA_SET_ELEM_KEY: e.key = data_value(f); break;
            case NFTA_SET_ELEM_KEY_END: e.key_end = data_value(f); break;
            case NFTA_SET_ELEM_FLAGS: e.flags = ntohl(mnl_attr_get_u32(f)); break;
            case NFTA_SET_ELEM_DATA: parse_verdict(f, e); break;
            default: break;  // timeouts, expressions, user data: not ours to compare
        }
    });
    return e;
}

SetDef set_def(const nftnl_set* s) {
    SetDef d;
    d.name = nftnl_set_get_str(s, NFTNL_SET_NAME);
    d.flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
    d.key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
    d.key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
    if (nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE)) d.data_type = nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE);
    if (nftnl_set_is_set(s, NFTNL_SET_DATA_LEN)) d.data_len = nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN);
    if (nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)) {
        std::uint32_t n = 0;
        const auto* lens = static_cast<const std::uint8_t*>(nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &n));
        for (std::uint32_t i = 0; i < n; ++i) d.concat.push_back(lens[i]);
    }
    if (nftnl_set_is_set(s, NFTNL_SET_USERDATA)) {
        std::uint32_t n = 0;
        const void* u = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &n);
        d.udata = bytes_of(u, n);
    }
    if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT)) d.timeout_ms = nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT);
    if (nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE)) d.size = nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE);
    return d;
}

struct FlowtableDeleter {
    void operator()(nftnl_flowtable* f) const { nftnl_flowtable_free(f); }
};
using FlowtablePtr = std::unique_ptr<nftnl_flowtable, FlowtableDeleter>;

emit::FlowtableDef flowtable_def(const nftnl_flowtable* f) {
    emit::FlowtableDef d;
    d.name = nftnl_flowtable_get_str(f, NFTNL_FLOWTABLE_NAME);
    d.hooknum = nftnl_flowtable_get_u32(f, NFTNL_FLOWTABLE_HOOKNUM);
    d.prio = nftnl_flowtable_get_s32(f, NFTNL_FLOWTABLE_PRIO);
    if (nftnl_flowtable_is_set(f, NFTNL_FLOWTABLE_FLAGS)) d.flags = nftnl_flowtable_get_u32(f, NFTNL_FLOWTABLE_FLAGS);
    if (nftnl_flowtable_is_set(f, NFTNL_FLOWTABLE_DEVICES)) {
        const char* const* devices = nftnl_flowtable_get_array(f, NFTNL_FLOWTABLE_DEVICES);
        for (; devices != nullptr && *devices != nullptr; ++devices) d.devices.emplace_back(*devices);
    }
    return d;
}

// One consistent read; `changed` is set when a dump came from another
// generation.
class Reader {
public:
    Reader(mnl_socket* sock, std::uint32_t portid, std::span<char> recv, std::uint32_t genid, const std::string& table,
           std::function<std::uint32_t()> next_seq, const ReadOptions& options, const std::string& scope)
        : sock_(sock),
          portid_(portid),
          recv_(recv),
          genid_(genid),
          table_(table),
          next_seq_(std::move(next_seq)),
          known_(options.known),
          with_elements_(options.elements),
          scope_(scope) {}

    bool changed() const { return changed_; }

    Result<std::optional<ObservedTable>> read() {
        auto exists = table_exists();
        if (!exists) return tl::unexpected(exists.error());
        if (!*exists || changed_) return std::optional<ObservedTable>{};
        ObservedTable t;
        t.name = table_;
        t.genid = genid_;
        if (auto r = read_chains(t); !r) return tl::unexpected(r.error());
        if (auto r = read_sets(t); !r) return tl::unexpected(r.error());
        if (auto r = read_rules(t); !r) return tl::unexpected(r.error());
        if (auto r = read_counters(t); !r) return tl::unexpected(r.error());
        if (auto r = read_flowtables(t); !r) return tl::unexpected(r.error());
        return std::optional<ObservedTable>(std::move(t));
    }

private:
    // Sends a dump request built by `fill` and hands each reply of our
    // generation to `fn`.
    Result<void> dump(std::uint16_t type, const std::function<void(nlmsghdr*)>& fill,
                      const std::function<void(const nlmsghdr*)>& fn) {
        std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
        const std::uint32_t seq = next_seq_();
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_INET, NLM_F_DUMP, seq);
        fill(nlh);
        const int err = detail::talk(sock_, portid_, recv_, nlh, seq, [&](const nlmsghdr* reply) {
            const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(reply));
            if (ntohs(nfg->res_id) != (genid_ & 0xffff)) {
                changed_ = true;
                return false;
            }
            fn(reply);
            return true;
        });
        if (err == -EPERM) return fail(ErrorKind::permission, "reading nftables needs CAP_NET_ADMIN");
        if (err == -EINTR || err == -EAGAIN) {  // a dump interrupted by a change: read again
            changed_ = true;
            return {};
        }
        if (err < 0) return fail(ErrorKind::kernel, std::string("netlink dump failed: ") + std::strerror(-err));
        return {};
    }

    Result<bool> table_exists() {
        bool found = false;
        auto r = dump(NFT_MSG_GETTABLE, [](nlmsghdr*) {}, [&](const nlmsghdr* nlh) {
            emit::TablePtr t(nftnl_table_alloc());
            if (nftnl_table_nlmsg_parse(nlh, t.get()) == 0 && table_ == nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME)) {
                found = true;
            }
        });
        if (!r) return tl::unexpected(r.error());
        return found;
    }

    Result<void> read_chains(ObservedTable& t) {
        return dump(NFT_MSG_GETCHAIN, [this](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table_.c_str()); },
                    [&](const nlmsghdr* nlh) {
                        emit::ChainPtr c(nftnl_chain_alloc());
                        if (nftnl_chain_nlmsg_parse(nlh, c.get()) != 0) return;
                        if (table_ != nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)) return;
                        emit::ObservedChain oc;
                        oc.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
                        if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
                            emit::BaseDef b;
                            b.hooknum = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
                            b.prio = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
                            b.type = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE);
                            b.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY);
                            oc.base = b;
                        }
                        t.chains.push_back(std::move(oc));
                    });
    }

    // Elements go straight into their compact form: a 1M-element set is 2M
    // elements, so no intermediate copy.
    Result<void> read_elements(const SetDef& def, emit::ObservedSet& out) {
        const bool concat_map = (def.flags & NFT_SET_MAP) && (def.flags & NFT_SET_CONCAT);
        return dump(NFT_MSG_GETSETELEM,
                    [&](nlmsghdr* nlh) {
                        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table_.c_str());
                        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, def.name.c_str());
                    },
                    [&](const nlmsghdr* nlh) {
                        detail::for_each_attr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
                            if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS) return;
                            detail::for_each_nested(a, [&](const nlattr* e) {
                                RawElem r = parse_element(e);
                                if (concat_map) {
                                    out.map_elements.push_back(MapElem{r.key, r.key_end, r.verdict, std::move(r.chain)});
                                } else {
                                    out.elements.push_back(KeyElem{r.key, (r.flags & NFT_SET_ELEM_INTERVAL_END) != 0});
                                }
                            });
                        });
                    });
    }

    Result<void> read_sets(ObservedTable& t) {
        std::vector<SetDef> defs;
        auto r = dump(NFT_MSG_GETSET, [this](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table_.c_str()); },
                      [&](const nlmsghdr* nlh) {
                          emit::SetPtr s(nftnl_set_alloc());
                          if (nftnl_set_nlmsg_parse(nlh, s.get()) != 0) return;
                          if (table_ != nftnl_set_get_str(s.get(), NFTNL_SET_TABLE)) return;
                          defs.push_back(set_def(s.get()));
                      });
        if (!r) return r;
        for (SetDef& def : defs) {
            if (take_known(t, def)) continue;
            emit::ObservedSet set;
            // A dynamic set's elements are the kernel's own state, never
            // compared: dumping them would only cost time (up to its size).
            if (!with_elements_ || emit::is_dynamic(def)) {
                add_set(t, std::move(def), std::move(set));
                continue;
            }
            if (auto e = read_elements(def, set); !e) return e;
            add_set(t, std::move(def), std::move(set));
        }
        return {};
    }

    // Elements we committed ourselves at this very generation: no dump.
    bool take_known(ObservedTable& t, const SetDef& def) {
        if (known_ == nullptr || known_->genid != genid_ || known_->table != table_) return false;
        if (known_->scope.empty() || known_->scope != scope_) return false;
        if (def.flags & (NFT_SET_ANONYMOUS | NFT_SET_MAP | NFT_SET_EVAL)) return false;
        auto it = known_->sets.find(def.name);
        if (it == known_->sets.end()) return false;
        emit::ObservedSet s;
        s.def = def;
        s.known = std::move(it->second);
        known_->sets.erase(it);
        t.sets.push_back(std::move(s));
        return true;
    }

    void add_set(ObservedTable& t, SetDef def, emit::ObservedSet s) {
        std::sort(s.elements.begin(), s.elements.end());
        std::sort(s.map_elements.begin(), s.map_elements.end());
        if (def.flags & NFT_SET_ANONYMOUS) {
            anon_[def.name] = emit::canonical_anon(def, s.elements);
            return;
        }
        s.def = std::move(def);
        t.sets.push_back(std::move(s));
    }

    Result<void> read_rules(ObservedTable& t) {
        std::map<std::string, emit::ObservedChain*> by_name;
        for (emit::ObservedChain& c : t.chains) by_name[c.name] = &c;
        auto resolve = [this](std::string_view name, std::uint32_t) -> std::optional<std::string> {
            auto it = anon_.find(std::string(name));
            if (it == anon_.end()) return std::nullopt;
            return it->second;
        };
        return dump(NFT_MSG_GETRULE, [this](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table_.c_str()); },
                    [&](const nlmsghdr* nlh) {
                        emit::OwnedRulePtr r(nftnl_rule_alloc());
                        if (nftnl_rule_nlmsg_parse(nlh, r.get()) != 0) return;
                        if (table_ != nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE)) return;
                        auto it = by_name.find(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN));
                        if (it == by_name.end()) return;
                        emit::ObservedRule rule;
                        rule.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
                        rule.canonical = emit::canonical_rule(r.get(), resolve);
                        it->second->rules.push_back(std::move(rule));
                    });
    }

    Result<void> read_counters(ObservedTable& t) {
        return dump(NFT_MSG_GETOBJ,
                    [this](nlmsghdr* nlh) {
                        mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, table_.c_str());
                        mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
                    },
                    [&](const nlmsghdr* nlh) {
                        emit::ObjPtr o(nftnl_obj_alloc());
                        if (nftnl_obj_nlmsg_parse(nlh, o.get()) != 0) return;
                        if (table_ != nftnl_obj_get_str(o.get(), NFTNL_OBJ_TABLE)) return;
                        if (nftnl_obj_get_u32(o.get(), NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER) return;
                        emit::ObservedCounter c;
                        c.name = nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME);
                        c.packets = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_CTR_PKTS);
                        c.bytes = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_CTR_BYTES);
                        if (nftnl_obj_is_set(o.get(), NFTNL_OBJ_USERDATA)) {
                            std::uint32_t n = 0;
                            const void* u = nftnl_obj_get_data(o.get(), NFTNL_OBJ_USERDATA, &n);
                            c.udata = bytes_of(u, n);
                        }
                        t.counters.push_back(std::move(c));
                    });
    }

    Result<void> read_flowtables(ObservedTable& t) {
        return dump(NFT_MSG_GETFLOWTABLE,
                    [this](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_TABLE, table_.c_str()); },
                    [&](const nlmsghdr* nlh) {
                        FlowtablePtr f(nftnl_flowtable_alloc());
                        if (nftnl_flowtable_nlmsg_parse(nlh, f.get()) != 0) return;
                        if (table_ != nftnl_flowtable_get_str(f.get(), NFTNL_FLOWTABLE_TABLE)) return;
                        t.flowtables.push_back(flowtable_def(f.get()));
                    });
    }

    mnl_socket* sock_;
    std::uint32_t portid_;
    std::span<char> recv_;
    std::uint32_t genid_;
    const std::string& table_;
    std::function<std::uint32_t()> next_seq_;
    KnownElements* known_;
    bool with_elements_;
    const std::string& scope_;
    bool changed_ = false;
    std::map<std::string, std::string> anon_;  // anonymous set name -> canonical content
};

}  // namespace

Result<KernelView> NetlinkKernel::read(const std::string& table, const ReadOptions& options) {
    constexpr int kAttempts = 10;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        auto genid = generation();
        if (!genid) return tl::unexpected(genid.error());
        Reader reader(sock_, portid_, recv_buffer(), *genid, table, [this] { return next_seq(); }, options, scope_);
        auto observed = reader.read();
        if (!observed) return tl::unexpected(observed.error());
        if (reader.changed()) continue;
        return KernelView{*genid, scope_, std::move(*observed)};
    }
    return fail(ErrorKind::conflict, "the ruleset kept changing while it was being read");
}

}  // namespace nftpolicy::kernel
