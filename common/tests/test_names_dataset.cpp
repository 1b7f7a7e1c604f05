// The makemore dataset: the lectures' split and context windows. Expected numbers are the ones the
// lecture notebooks print (shared/reference/lectures.md, "Shared data facts").
#include "common/data/names_dataset.hpp"

#include "common/app/error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

namespace {

std::vector<std::string> names() {
  const std::string path = std::string(Z2H_DEFAULT_DATA_DIR) + "/names.txt";
  INFO("names.txt is fetched by data/fetch (./z2h test does it): " << path);
  REQUIRE(std::filesystem::exists(path));
  return z2h::read_lines(path);
}

}  // namespace

TEST_CASE("dataset: random.seed(42) + shuffle gives the lecture's order and 80/10/10 sizes", "[dataset]") {
  const auto split = z2h::split_words(names());
  CHECK(split.train.size() == 25626);
  CHECK(split.dev.size() == 3203);
  CHECK(split.test.size() == 3204);
  REQUIRE(split.train.size() >= 3);
  CHECK(split.train[0] == "yuheng");
  CHECK(split.train[1] == "diondre");
  CHECK(split.train[2] == "xavien");
}

TEST_CASE("dataset: block size 3 and 8 give 182625 / 22655 / 22866 examples", "[dataset]") {
  const auto words = names();
  const auto vocab = z2h::Vocab::from_words(words, '.');
  const auto split = z2h::split_words(words);
  for (int block : {3, 8}) {
    INFO("block_size " << block);
    const auto tr = z2h::build_contexts(split.train, block, vocab);
    CHECK(tr.size() == 182625);
    CHECK(tr.X.size() == 182625u * static_cast<size_t>(block));
    CHECK(z2h::build_contexts(split.dev, block, vocab).size() == 22655);
    CHECK(z2h::build_contexts(split.test, block, vocab).size() == 22866);
  }
}

TEST_CASE("dataset: 'emma' gives the lecture's five context windows", "[dataset]") {
  const auto vocab = z2h::Vocab::from_words({"emma"}, '.');  // . a e m -> 0 1 2 3
  const auto c = z2h::build_contexts({"emma"}, 3, vocab);
  const int dot = 0, a = vocab.stoi('a'), e = vocab.stoi('e'), m = vocab.stoi('m');
  REQUIRE(c.size() == 5);
  const std::vector<int64_t> X{dot, dot, dot, dot, dot, e, dot, e, m, e, m, m, m, m, a};
  const std::vector<int64_t> Y{e, m, m, a, dot};
  CHECK(c.X == X);
  CHECK(c.Y == Y);
}

TEST_CASE("dataset: a character outside the vocabulary is a clear error naming the word", "[dataset]") {
  const auto vocab = z2h::Vocab::from_words({"abc"}, '.');
  try {
    z2h::build_contexts({"abd"}, 3, vocab);
    FAIL("expected a UserError");
  } catch (const z2h::UserError& e) {
    CHECK(std::string(e.what()).find("'abd'") != std::string::npos);
  }
  CHECK_THROWS_AS(z2h::build_contexts({"abc"}, 0, vocab), std::invalid_argument);
}
