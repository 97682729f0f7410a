// `nftpolicy matrix` as one call: policy file -> load -> resolve the site ->
// matrix, diagnostics collected (never printed). Like compile, it never
// reads the migration state: it describes the policy, for any machine.
#pragma once

#include <memory>

#include <tl/expected.hpp>

#include "matrix/matrix.h"
#include "pipeline/compile.h"
#include "pipeline/failure.h"
#include "support/diagnostic.h"

namespace nftpolicy::pipeline {

struct MatrixOutput {
    std::shared_ptr<const SourceManager> sources;
    Diagnostics diagnostics;
    tl::expected<matrix::Matrix, Failure> result = tl::unexpected(Failure{});
};

// `request.host` empty: the whole site (never this machine's hostname);
// otherwise only what that host enforces. `request.table` and
// `request.state_dir` are not used.
MatrixOutput site_matrix(const PolicyRequest& request);

}  // namespace nftpolicy::pipeline
