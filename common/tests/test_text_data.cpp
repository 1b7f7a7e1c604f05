// Reading the course's text files and the character vocabulary (stoi / itos / encode / decode).
#include "common/data/text_data.hpp"

#include "common/app/error.hpp"
#include "common/tests/util_test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <stdexcept>

using z2h::UserError;
using z2h::test::TempDir;
using z2h::test::write_bytes;

TEST_CASE("text_data: read_lines drops line ends, \\r of Windows files, and the empty line after the last newline") {
  TempDir dir;
  write_bytes(dir / "a.txt", "emma\nolivia\r\n\nava\n");
  CHECK(z2h::read_lines((dir / "a.txt").string()) == std::vector<std::string>{"emma", "olivia", "", "ava"});
  write_bytes(dir / "b.txt", "emma\nava");  // no final newline
  CHECK(z2h::read_lines((dir / "b.txt").string()) == std::vector<std::string>{"emma", "ava"});
}

TEST_CASE("text_data: read_text returns the bytes as they are, minus a UTF-8 byte-order mark") {
  TempDir dir;
  write_bytes(dir / "a.txt", "First Citizen:\r\nBefore we proceed\n");
  CHECK(z2h::read_text((dir / "a.txt").string()) == "First Citizen:\r\nBefore we proceed\n");
  write_bytes(dir / "bom.txt", "\xEF\xBB\xBFhi\n");
  CHECK(z2h::read_text((dir / "bom.txt").string()) == "hi\n");
}

TEST_CASE("text_data: a missing file, a directory and an empty file are clear errors") {
  TempDir dir;
  const auto missing = (dir / "names.txt").string();
  REQUIRE_THROWS_AS(z2h::read_lines(missing), UserError);
  REQUIRE_THROWS_WITH(z2h::read_lines(missing), "file '" + missing + "' not found (check the path)");
  REQUIRE_THROWS_WITH(z2h::read_text(dir.path().string()), Catch::Contains("is a directory"));
  REQUIRE_THROWS_WITH(z2h::read_text("/dev/null"), "'/dev/null' is not a regular file (pass a text file)");
  write_bytes(dir / "empty.txt", "");
  REQUIRE_THROWS_WITH(z2h::read_lines((dir / "empty.txt").string()), Catch::Contains("is empty"));
  write_bytes(dir / "bom-only.txt", "\xEF\xBB\xBF");
  REQUIRE_THROWS_WITH(z2h::read_text((dir / "bom-only.txt").string()), Catch::Contains("is empty"));
}

TEST_CASE("text_data: binary content (a NUL byte or invalid UTF-8) 'looks binary', naming the line") {
  TempDir dir;
  write_bytes(dir / "nul.bin", std::string("emma\nol\0ivia\n", 13));
  REQUIRE_THROWS_WITH(z2h::read_lines((dir / "nul.bin").string()),
                      Catch::Contains("looks binary") && Catch::Contains("NUL byte on line 2"));
  write_bytes(dir / "latin1.txt", "a\nb\ncaf\xE9\n");  // Latin-1 'é', not UTF-8
  REQUIRE_THROWS_WITH(z2h::read_text((dir / "latin1.txt").string()),
                      Catch::Contains("looks binary") && Catch::Contains("invalid UTF-8 on line 3"));
  // Overlong encodings and UTF-16 surrogates are invalid UTF-8 too.
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
    write_bytes(dir / "bad.txt", bad);
    REQUIRE_THROWS_WITH(z2h::read_text((dir / "bad.txt").string()), Catch::Contains("looks binary"));
  }
  write_bytes(dir / "utf8.txt", "caf\xC3\xA9 \xE2\x80\x99 \xF0\x9F\x99\x82\n");  // é ’ 🙂: valid
  CHECK_NOTHROW(z2h::read_text((dir / "utf8.txt").string()));
}

TEST_CASE("text_data: names vocabulary is '.'=0 then a..z=1..26, as in lecture 2") {
  const std::vector<std::string> words = {"emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia",
                                          "amelia", "harper", "evelyn", "abigail", "emily", "elizabeth", "mila",
                                          "ella", "avery", "sofia", "camila", "aria", "scarlett", "victoria",
                                          "madison", "luna", "grace", "chloe", "penelope", "layla", "riley",
                                          "zoey", "nora", "lily", "eleanor", "hannah", "lillian", "addison",
                                          "aubrey", "ellie", "stella", "natalie", "zoe", "leah", "hazel",
                                          "violet", "aurora", "savannah", "audrey", "brooklyn", "bella",
                                          "claire", "skylar", "lucy", "paisley", "everly", "anna", "caroline",
                                          "nova", "genesis", "emilia", "kennedy", "samantha", "maya", "willow",
                                          "kinsley", "naomi", "aaliyah", "elena", "sarah", "ariana", "allison",
                                          "gabriella", "alice", "madelyn", "cora", "ruby", "eva", "serenity",
                                          "autumn", "adeline", "hailey", "gianna", "valentina", "isla", "eliana",
                                          "quinn", "nevaeh", "ivy", "sadie", "piper", "lydia", "alexa", "josephine",
                                          "emery", "julia", "delilah", "arianna", "vivian", "kaylee", "sophie",
                                          "brielle", "madeline", "jaxon", "xavier", "wyatt"};
  const auto vocab = z2h::Vocab::from_words(words, '.');
  REQUIRE(vocab.size() == 27);
  CHECK(vocab.chars() == ".abcdefghijklmnopqrstuvwxyz");
  CHECK(vocab.stoi('.') == 0);
  CHECK(vocab.stoi('a') == 1);
  CHECK(vocab.stoi('z') == 26);
  CHECK(vocab.itos(13) == 'm');
  CHECK(vocab.encode("emma") == std::vector<int>{5, 13, 13, 1});
  CHECK(vocab.decode({0, 5, 13, 13, 1, 0}) == ".emma.");
}

TEST_CASE("text_data: tiny shakespeare's 65 characters in sorted order, and lecture 7's encode('hii there')") {
  // Every character of tinyshakespeare.txt, out of order and repeated.
  const std::string text = "zyx\nHello, World! hii there $&'-.3:;?ABCDEFGIJKLMNOPQRSTUVXYZ abcdefgjkmnopqsuvw\n";
  const auto vocab = z2h::Vocab::from_text(text);
  CHECK(vocab.size() == 65);
  CHECK(vocab.chars() == "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  CHECK(vocab.encode("hii there") == std::vector<int>{46, 47, 47, 1, 58, 46, 43, 56, 43});
  CHECK(vocab.decode(vocab.encode(text)) == text);
}

TEST_CASE("text_data: encoding an unexpected character names it, its line and column") {
  const auto vocab = z2h::Vocab::from_text("abc\n");
  REQUIRE_THROWS_AS(vocab.encode("ab\nca!"), UserError);
  REQUIRE_THROWS_WITH(vocab.encode("ab\nca!"),
                      "character '!' at line 2, column 3 is not in the vocabulary '\\nabc' (use only those characters)");
  REQUIRE_THROWS_WITH(vocab.encode("cab\xC3\xA9"), Catch::StartsWith("character '\xC3\xA9' (U+00E9) at line 1, column 4"));
  REQUIRE_THROWS_WITH(vocab.encode("a\tb"), Catch::StartsWith("character '\\t' at line 1, column 2"));
  REQUIRE_THROWS_WITH(vocab.stoi('Q'), "character 'Q' is not in the vocabulary '\\nabc'");
}

TEST_CASE("text_data: itos outside the vocabulary is a bug (std::out_of_range), not bad input") {
  const auto vocab = z2h::Vocab::from_text("ab");
  CHECK_THROWS_AS(vocab.itos(2), std::out_of_range);
  CHECK_THROWS_AS(vocab.itos(-1), std::out_of_range);
  CHECK_THROWS_AS(vocab.decode({0, 7}), std::out_of_range);
}

TEST_CASE("text_data: a word holding the special token, or non-ASCII text, is refused naming the line") {
  REQUIRE_THROWS_WITH(z2h::Vocab::from_words({"emma", "mr.x"}, '.'),
                      "line 2 ('mr.x') contains '.', the start/end token; remove it from the data");
  REQUIRE_THROWS_WITH(z2h::Vocab::from_words({"emma", "zoë"}, '.'),
                      Catch::StartsWith("line 2 ('zoë') has the non-ASCII character 'ë' (U+00EB)"));
  REQUIRE_THROWS_WITH(z2h::Vocab::from_text("To be\nor not \xE2\x80\x99tis"),
                      Catch::StartsWith("line 2 has the non-ASCII character '\xE2\x80\x99' (U+2019)"));
}

TEST_CASE("text_data: a vocabulary from an explicit character list keeps its order and refuses repeats") {
  const z2h::Vocab vocab(".zab");
  CHECK(vocab.stoi('z') == 1);
  CHECK(vocab.contains('a'));
  CHECK_FALSE(vocab.contains('c'));
  REQUIRE_THROWS_WITH(z2h::Vocab(".aba"), Catch::Contains("character 'a' twice"));
}

TEST_CASE("text_data: the real names.txt has 32033 words over 27 characters (when fetched)") {
  const std::string path = std::string(Z2H_DEFAULT_DATA_DIR) + "/names.txt";
  if (!std::filesystem::exists(path)) {
    WARN("skipped: " << path << " not fetched yet");
    return;
  }
  const auto words = z2h::read_lines(path);
  CHECK(words.size() == 32033);
  CHECK(words.front() == "emma");
  CHECK(z2h::Vocab::from_words(words, '.').chars() == ".abcdefghijklmnopqrstuvwxyz");
}

TEST_CASE("text_data: the real tinyshakespeare.txt has 1115394 characters over 65 (when fetched)") {
  const std::string path = std::string(Z2H_DEFAULT_DATA_DIR) + "/tinyshakespeare.txt";
  if (!std::filesystem::exists(path)) {
    WARN("skipped: " << path << " not fetched yet");
    return;
  }
  const auto text = z2h::read_text(path);
  CHECK(text.size() == 1115394);
  const auto vocab = z2h::Vocab::from_text(text);
  CHECK(vocab.chars() == "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  CHECK(vocab.encode(text.substr(0, 8)) == std::vector<int>{18, 47, 56, 57, 58, 1, 15, 47});  // "First Ci"
}
