// Stop strings over streamed pieces: split across pieces, held-back prefixes, false starts.
#include "runtime/stop_strings.h"

#include <gtest/gtest.h>

namespace bamba {
namespace {

// Streams `pieces` through a matcher; returns the emitted text and whether it stopped.
std::pair<std::string, bool> stream(std::vector<std::string> stops, const std::vector<std::string>& pieces) {
  StopStringMatcher matcher(std::move(stops));
  std::string out;
  for (const std::string& piece : pieces) {
    StopStringMatcher::Piece p = matcher.push(piece);
    out += p.text;
    if (p.stopped) return {out, true};
  }
  return {out + matcher.flush(), false};
}

TEST(StopStrings, NoStopStringsPassesEverything) {
  StopStringMatcher matcher({});
  EXPECT_EQ(matcher.push("abc").text, "abc");
  EXPECT_EQ(matcher.flush(), "");
}

TEST(StopStrings, StopInsideOnePiece) {
  EXPECT_EQ(stream({"END"}, {"hello END world"}), std::make_pair(std::string("hello "), true));
}

TEST(StopStrings, StopSplitAcrossPieces) {
  EXPECT_EQ(stream({"</s>"}, {"ab<", "/", "s", ">cd"}), std::make_pair(std::string("ab"), true));
}

TEST(StopStrings, HeldBackPrefixIsReleasedWhenItDiverges) {
  StopStringMatcher matcher({"STOP"});
  EXPECT_EQ(matcher.push("go ST").text, "go ");  // "ST" might start "STOP"
  EXPECT_EQ(matcher.push("A").text, "STA");
  EXPECT_EQ(matcher.push("ST").text, "");
  EXPECT_EQ(matcher.flush(), "ST");  // end of stream: nothing can complete any more
}

TEST(StopStrings, EarliestOfSeveralWins) {
  EXPECT_EQ(stream({"cd", "b"}, {"abcd"}), std::make_pair(std::string("a"), true));
  EXPECT_EQ(stream({"xyz", "yz!"}, {"12xy", "z!"}), std::make_pair(std::string("12"), true));
}

TEST(StopStrings, OverlappingPrefixesHoldTheLongest) {
  // "aab" must be found although "a" alone starts it again.
  EXPECT_EQ(stream({"aab"}, {"xa", "a", "a", "b"}), std::make_pair(std::string("xa"), true));
}

TEST(StopStrings, NothingAfterStop) {
  StopStringMatcher matcher({"!"});
  EXPECT_TRUE(matcher.push("hi!there").stopped);
  EXPECT_EQ(matcher.push("more").text, "");
  EXPECT_EQ(matcher.flush(), "");
}

TEST(StopStrings, MultibyteTextIsKeptWhole) {
  EXPECT_EQ(stream({"é!"}, {"caf", "é", "é", "!"}), std::make_pair(std::string("café"), true));
}

}  // namespace
}  // namespace bamba
