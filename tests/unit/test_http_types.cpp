#include "http_types.hpp"

#include <doctest/doctest.h>

using dpost::server::HttpRequest;
using dpost::server::percent_decode;

TEST_CASE("percent_decode: escapes decode, '+' and bad escapes stay as sent") {
  CHECK(percent_decode("EE123456785VN") == "EE123456785VN");
  CHECK(percent_decode("a%20b") == "a b");
  CHECK(percent_decode("%C4%90%E1%BB%93ng") == "\xC4\x90\xE1\xBB\x93ng");  // "Đồng"
  CHECK(percent_decode("%2f%2F") == "//");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("100%") == "100%");
  CHECK(percent_decode("%4") == "%4");
  CHECK(percent_decode("%zz%41") == "%zzA");
  CHECK(percent_decode("") == "");
}

TEST_CASE("HttpRequest: header, param and query_param look-ups") {
  HttpRequest request;
  request.headers = {{"host", "example.vn"}, {"authorization", "Bearer t"}, {"x-dup", "first"}, {"x-dup", "second"}};
  request.params = {{"item_id", "EE123456785VN"}};
  request.query = "q=Nguy%E1%BB%85n+V%C4%83n&empty=&flag&phone=%2B84901234567&q=again";

  CHECK(request.header("authorization") == "Bearer t");
  CHECK(request.header("x-dup") == "first");
  CHECK(request.header("missing").empty());
  CHECK(request.param("item_id") == "EE123456785VN");
  CHECK(request.param("other").empty());

  CHECK(request.query_param("q") == "Nguy\xE1\xBB\x85n V\xC4\x83n");  // first occurrence, '+' is a space
  CHECK(request.query_param("phone") == "+84901234567");
  CHECK(request.query_param("empty").empty());
  CHECK(request.query_param("flag").empty());
  CHECK(request.query_param("absent").empty());
}
