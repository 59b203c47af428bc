// The ledger over the real server (issue 5): signed checkpoints verify with the published key, every event's
// inclusion proof verifies against a signed root and its leaf recomputes from what the proof shows, one signed
// tree extends the next, and no leaf carries personal data.
#include "itest_common.hpp"

#include "merkle.hpp"
#include "signing.hpp"

#include <doctest/doctest.h>

using namespace dpost;
using namespace dpost::test;
using nlohmann::json;

namespace {

merkle::Hash hex_hash(const json& j) {
  auto h = merkle::from_hex(j.get<std::string>());
  REQUIRE(h);
  return *h;
}

std::vector<merkle::Hash> path_of(const json& proof, const char* field) {
  std::vector<merkle::Hash> out;
  for (const auto& h : proof[field]) out.push_back(hex_hash(h));
  return out;
}

// A checkpoint as published: its text parses to its fields and its signature verifies with `public_key`.
void check_signed(const json& cp, const std::string& public_key) {
  INFO(cp.dump());
  auto key = signing::base64_decode_fixed<32>(public_key);
  REQUIRE(key);
  auto signature = signing::base64_decode(cp["signature"].get<std::string>());
  REQUIRE(signature);
  CHECK(signing::verify(cp["text"].get<std::string>(), *signature, *key));
  auto parsed = signing::parse_checkpoint_text(cp["text"].get<std::string>());
  REQUIRE(parsed);
  CHECK(parsed->origin == "dossier-post/ledger");
  CHECK(parsed->tree_size == cp["tree_size"].get<std::uint64_t>());
  CHECK(merkle::to_hex(parsed->root_hash) == cp["root_hash"].get<std::string>());
  // A checkpoint edited after signing does not verify.
  auto text = cp["text"].get<std::string>();
  text[text.find('\n') + 1] ^= 1;
  CHECK_FALSE(signing::verify(text, *signature, *key));
}

json get_json(ApiSession& s, const std::string& target, const std::string& user = "") {
  auto answer = s.client.get(target, user.empty() ? std::string() : s.token(user));
  INFO(target << " -> " << describe(answer));
  REQUIRE(answer.status == 200);
  return answer.json();
}

}  // namespace

TEST_CASE("ledger: signed checkpoints, inclusion and consistency proofs over the live server") {
  TestServer server({"--demo", "--public-rate", "0"});
  ApiSession s(server);
  Timeline t;
  const auto applicant = unique_applicant();
  auto item = create_dossier_item(s, "clerk1", applicant);
  const std::string recipient = "Ngô Thị Nhận Thay " + applicant.name.substr(applicant.name.size() - 6);
  const std::string reason = "Nhà số 7 ngõ Nhạn khóa cửa " + applicant.phone;
  for (const char* code : {"EMA", "EMG", "EDG"}) record(s, "clerk1", scan_body(item, code, kPostOffice1, t.next()));
  auto failed = scan_body(item, "EMH", kPostOffice1, t.next());
  failed["reason"] = reason;
  failed["action"] = "hold_at_post_office";
  record(s, "clerk1", failed);
  // The custody view signs a checkpoint covering every event it shows.
  const auto custody = get_json(s, "/api/v1/items/" + item + "/custody", "clerk1");
  const auto first = custody["checkpoint"];
  const std::string public_key = custody["ledger_public_key"];

  const auto key = get_json(s, "/api/v1/ledger/key");  // public
  CHECK(key["public_key"] == public_key);
  CHECK(key["algorithm"] == "Ed25519");
  check_signed(first, public_key);
  const auto published = get_json(s, "/api/v1/ledger/checkpoint");  // public, no token
  check_signed(published, public_key);
  CHECK(published["tree_size"].get<std::uint64_t>() >= first["tree_size"].get<std::uint64_t>());

  SUBCASE("every event's proof verifies, its leaf recomputes from what is shown, and nothing personal is in it") {
    std::vector<std::string> personal = applicant.personal_strings();
    personal.push_back(reason);
    personal.push_back(recipient);
    personal.push_back("clerk1");
    REQUIRE(custody["events"].size() == 4);
    for (const auto& e : custody["events"]) {
      CAPTURE(e["code"]);
      const auto& proof = e["proof"];
      const auto leaf = hex_hash(proof["leaf_hash"]);
      const std::string leaf_public = proof["leaf_public"];
      CHECK(merkle::leaf_hash(leaf_public + "personal=" + proof["personal_commitment"].get<std::string>() + "\n") ==
            leaf);
      CHECK(contains(leaf_public, e["event_id"].get<std::string>()));
      CHECK(contains(leaf_public, item));
      for (const auto& p : personal) {
        CAPTURE(p);
        CHECK_FALSE(contains(proof.dump(), p));
      }
      CHECK(merkle::verify_inclusion(leaf, proof["leaf_index"], proof["tree_size"], path_of(proof, "audit_path"),
                                     hex_hash(first["root_hash"])));
      // The same proof does not verify for another leaf or another position.
      auto other = leaf;
      other[0] ^= 1;
      CHECK_FALSE(merkle::verify_inclusion(other, proof["leaf_index"], proof["tree_size"], path_of(proof, "audit_path"),
                                           hex_hash(first["root_hash"])));
      // The proof endpoint answers the same for the same tree size.
      const auto direct = get_json(s,
                                   "/api/v1/ledger/proof/inclusion?event_id=" + e["event_id"].get<std::string>() +
                                       "&tree_size=" + std::to_string(proof["tree_size"].get<std::uint64_t>()),
                                   "clerk1");
      CHECK(direct["audit_path"] == proof["audit_path"]);
      CHECK(direct["root_hash"] == first["root_hash"]);
    }
  }

  SUBCASE("a later checkpoint extends the earlier one, for every pair of sizes") {
    record(s, "clerk1", scan_body(item, "EDG", kPostOffice1, t.next()));
    auto delivered = scan_body(item, "EMI", kPostOffice1, t.next());
    record(s, "clerk1", delivered);
    const auto second = get_json(s, "/api/v1/items/" + item + "/custody", "clerk1")["checkpoint"];
    check_signed(second, public_key);
    const auto n1 = first["tree_size"].get<std::uint64_t>();
    const auto n2 = second["tree_size"].get<std::uint64_t>();
    REQUIRE(n2 >= n1 + 2);
    auto c =
        get_json(s, "/api/v1/ledger/proof/consistency?first=" + std::to_string(n1) + "&second=" + std::to_string(n2));
    CHECK(c["first_root"] == first["root_hash"]);
    CHECK(c["second_root"] == second["root_hash"]);
    CHECK(merkle::verify_consistency(n1, n2, hex_hash(first["root_hash"]), hex_hash(second["root_hash"]),
                                     path_of(c, "proof")));
    // A forged earlier root is not consistent.
    auto forged = hex_hash(first["root_hash"]);
    forged[5] ^= 0x40;
    CHECK_FALSE(merkle::verify_consistency(n1, n2, forged, hex_hash(second["root_hash"]), path_of(c, "proof")));

    // Every earlier size against the latest, and every size's inclusion of the first leaf.
    int proofs = 0;
    for (std::uint64_t m = 1; m <= n2; ++m) {
      CAPTURE(m);
      auto p =
          get_json(s, "/api/v1/ledger/proof/consistency?first=" + std::to_string(m) + "&second=" + std::to_string(n2));
      CHECK(merkle::verify_consistency(m, n2, hex_hash(p["first_root"]), hex_hash(second["root_hash"]),
                                       path_of(p, "proof")));
      ++proofs;
    }
    const auto first_event = custody["events"][0]["event_id"].get<std::string>();
    const auto leaf_index = custody["events"][0]["proof"]["leaf_index"].get<std::uint64_t>();
    for (std::uint64_t m = leaf_index + 1; m <= n2; ++m) {
      CAPTURE(m);
      auto p = get_json(s, "/api/v1/ledger/proof/inclusion?event_id=" + first_event + "&tree_size=" + std::to_string(m),
                        "clerk1");
      auto root = get_json(s, "/api/v1/ledger/proof/consistency?first=" + std::to_string(m) +
                                  "&second=" + std::to_string(m))["first_root"];
      CHECK(p["root_hash"] == root);
      CHECK(
          merkle::verify_inclusion(hex_hash(p["leaf_hash"]), leaf_index, m, path_of(p, "audit_path"), hex_hash(root)));
      ++proofs;
    }
    MESSAGE("verified " << proofs << " proofs over tree sizes up to " << n2);
    check_error(s.client.get("/api/v1/ledger/proof/consistency?first=5&second=" + std::to_string(n2 + 1000)), 422,
                "bad_tree_size");
    check_error(s.client.get("/api/v1/ledger/proof/consistency?first=x&second=3"), 422, "bad_tree_size");
  }

  SUBCASE("the live check is intact, and for supervisors and admins only") {
    const auto v = get_json(s, "/api/v1/ledger/verify", "supervisor1");
    CHECK(v["intact"] == true);
    CHECK(v["problems"].empty());
    check_error(s.client.get("/api/v1/ledger/verify", s.token("clerk1")), 403);
    check_error(s.client.get("/api/v1/ledger/verify"), 401);
  }
}
