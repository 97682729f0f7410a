// Encoders that append one nf_tables message (or, for set elements, as many
// 64 KiB messages as needed) to a Batch. Tables, chains, sets, objects and
// rules go through libnftnl objects; set elements are written with libmnl
// directly so a 1M-element set is never materialized as libnftnl objects.
// Every message asks for an acknowledgement (NLM_F_ACK) so the committer can
// account for each one.
#pragma once

#include <cstdint>
#include <string>

#include "emit/netlink_batch.h"
#include "emit/netlink_objects.h"
#include "emit/netlink_state.h"

struct nlmsghdr;
struct nlattr;

namespace nftpolicy::emit::encode {

void new_table(Batch& b, const std::string& table);

void new_chain(Batch& b, const std::string& table, const std::string& name, const std::optional<BaseDef>& base,
               const MessageOrigin& origin);
void del_chain(Batch& b, const std::string& table, const std::string& name);
// Deletes every rule of a chain (`flush chain`).
void flush_chain(Batch& b, const std::string& table, const std::string& name);

// A named counter; `packets`/`bytes` carry values over when it is recreated.
void new_counter(Batch& b, const std::string& table, const DesiredCounter& c, std::uint64_t packets = 0,
                 std::uint64_t bytes = 0);
void del_counter(Batch& b, const std::string& table, const std::string& name);

// `desc_size`: the element count nft declares for anonymous sets (0: none;
// a named set declares its own `def.size`).
void new_set(Batch& b, const std::string& table, const SetDef& def, std::uint32_t id, const MessageOrigin& origin,
             std::uint32_t desc_size = 0);
void del_set(Batch& b, const std::string& table, const std::string& name);

// `flowtable NAME { ... }` (NEWFLOWTABLE, created if missing), and its deletion.
void new_flowtable(Batch& b, const std::string& table, const FlowtableDef& def, const MessageOrigin& origin);
void del_flowtable(Batch& b, const std::string& table, const std::string& name);

// A rule and, before it, its anonymous sets.
void new_rule(Batch& b, const std::string& table, const DesiredRule& rule, const MessageOrigin& origin);

// Writes set elements into as many NEWSETELEM/DELSETELEM messages as needed.
class ElementWriter {
public:
    // `set_id` 0: address the set by name only (it already exists).
    ElementWriter(Batch& b, bool add, const std::string& table, const SetDef& def, std::uint32_t set_id,
                  MessageOrigin origin);
    ElementWriter(const ElementWriter&) = delete;
    ElementWriter& operator=(const ElementWriter&) = delete;
    ~ElementWriter();  // finishes the last message

    void put(const KeyElem& e);
    void put(const MapElem& e);
    std::size_t count() const { return count_; }

private:
    void open();
    void close();
    void ensure_room();

    Batch& batch_;
    bool add_;
    std::string table_;  // a copy: callers may pass a temporary
    const SetDef& def_;
    std::uint32_t set_id_;
    MessageOrigin origin_;
    nlmsghdr* nlh_ = nullptr;
    nlattr* nest_ = nullptr;
    std::size_t count_ = 0;
};

}  // namespace nftpolicy::emit::encode
