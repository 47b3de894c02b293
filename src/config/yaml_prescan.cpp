// The first pass over chos.yaml (see yaml_prescan.hpp).
#include "config/yaml_prescan.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

namespace chos::config {

namespace {

constexpr std::size_t max_events = 100000;
constexpr int max_depth = 32;

// A first pass over the event stream, before any tree is built: aliases and anchors
// are refused (an alias bomb is cheap for yaml-cpp's shared nodes but not for whoever
// walks them), and the document's size and depth are bounded.
class Prescan : public YAML::EventHandler {
public:
    explicit Prescan(std::vector<Diagnostic>& out, const std::string& file) : out_(out), file_(file) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { node(mark, anchor); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override
    {
        count();
        report(mark, "aliases (*name) are not allowed in chos.yaml");
    }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override
    {
        node(mark, anchor);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override
    {
        open(mark, anchor);
    }
    void OnSequenceEnd() override { --depth_; }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override
    {
        open(mark, anchor);
    }
    void OnMapEnd() override { --depth_; }

    [[nodiscard]] bool ok() const { return !failed_; }

private:
    void count()
    {
        if (++events_ > max_events && !too_big_) {
            too_big_ = true;
            failed_ = true;
            out_.push_back({file_, 0, 0, "more than " + std::to_string(max_events) + " YAML nodes"});
        }
    }
    void node(const YAML::Mark& mark, YAML::anchor_t anchor)
    {
        count();
        if (anchor != YAML::NullAnchor)
            report(mark, "anchors (&name) are not allowed in chos.yaml");
    }
    void open(const YAML::Mark& mark, YAML::anchor_t anchor)
    {
        node(mark, anchor);
        if (++depth_ > max_depth && !too_deep_) {
            too_deep_ = true;
            report(mark, "nested deeper than " + std::to_string(max_depth) + " levels");
        }
    }
    void report(const YAML::Mark& mark, std::string message)
    {
        failed_ = true;
        if (reported_ < 20)
            out_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
        ++reported_;
    }

    std::vector<Diagnostic>& out_;
    const std::string& file_;
    std::size_t events_ = 0;
    int depth_ = 0;
    int reported_ = 0;
    bool failed_ = false, too_big_ = false, too_deep_ = false;
};

} // namespace

void prescan_yaml(std::string_view text, YamlReader& r)
{
    std::string copy(text);
    std::istringstream in(copy);
    Prescan prescan(r.diagnostics(), r.file());
    try {
        YAML::Parser parser(in);
        int documents = 0;
        while (parser.HandleNextDocument(prescan)) {
            if (++documents > 1) {
                r.error_at(0, 0, "more than one YAML document");
                break;
            }
        }
    } catch (const YAML::Exception& e) {
        r.syntax_error(text, e);
        r.give_up();
    }
    if (!prescan.ok() || r.failed())
        r.give_up();
}

} // namespace chos::config
