// chos-setup image build: one environment as one image file (chos-setup(8) "image
// build"; docs/architecture.md "chos-setup"), made by the tools Debian ships -- mksquashfs
// (squashfs-tools), mkfs.erofs (erofs-utils), mmdebstrap for --suite -- with a fixed
// argv, reproducibly: the same tree gives the same bytes.
#pragma once

#include "setup/outcome.hpp"

#include <string>

namespace chos::setup {

enum class ImageFormat { squashfs, erofs };

struct ImageRequest {
    std::string name;    // the environment's name (an erofs image's UUID is derived from it)
    std::string from;    // --from DIR: the tree, or empty
    std::string suite;   // --suite SUITE: a Debian suite mmdebstrap builds, or empty
    std::string include; // --include PKG,...: with --suite, mmdebstrap's extra packages
    std::string mirror;  // --mirror URL: with --suite, the archive (the site's own mirror)
    ImageFormat format = ImageFormat::squashfs;
    std::string out;     // the image file, replaced by rename (a new inode)
};

// Build the image: checks first (root; the tools installed; OUT's directory the
// administrator's alone; the tree a directory that does not hold OUT), then the tool
// writes a temporary file beside OUT, which becomes root's, 0644, and is renamed over
// OUT. On any failure nothing is left but what OUT was before.
[[nodiscard]] Outcome image_build(const ImageRequest& request);

} // namespace chos::setup
