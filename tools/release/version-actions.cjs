// Nx release "versionActions" for our npm workspaces (package.json manifests).
//
// Nx's JavaScript implementation ships in @nx/js, whose newest release on this registry (23.x) does not
// match nx 24, so this is the small equivalent: read and write `version` in each project's package.json
// and keep the exact versions our packages declare for each other in step. Registries are not read:
// these packages are versioned from git (conventional commits), not from a published registry.
const { VersionActions } = require('nx/release')
const path = require('node:path')

const DEP_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']

function readJson(tree, file) {
  return JSON.parse(tree.read(file, 'utf-8'))
}
function writeJson(tree, file, value) {
  tree.write(file, JSON.stringify(value, null, 2) + '\n')
}

class PackageJsonVersionActions extends VersionActions {
  validManifestFilenames = ['package.json']

  manifestPath() {
    return path.join(this.projectGraphNode.data.root, 'package.json')
  }

  async readCurrentVersionFromSourceManifest(tree) {
    const manifestPath = this.manifestPath()
    if (!tree.exists(manifestPath)) return null
    return { currentVersion: readJson(tree, manifestPath).version, manifestPath }
  }

  async readCurrentVersionFromRegistry() {
    return null
  }

  async readCurrentVersionOfDependency(tree, projectGraph, dependencyProjectName) {
    const pkg = readJson(tree, this.manifestPath())
    const depName = projectGraph.nodes[dependencyProjectName]?.data?.metadata?.js?.packageName ?? dependencyProjectName
    for (const field of DEP_FIELDS) {
      if (pkg[field]?.[depName] !== undefined) return { currentVersion: pkg[field][depName], dependencyCollection: field }
    }
    return { currentVersion: null, dependencyCollection: null }
  }

  async updateProjectVersion(tree, newVersion) {
    const manifestPath = this.manifestPath()
    const pkg = readJson(tree, manifestPath)
    pkg.version = newVersion
    writeJson(tree, manifestPath, pkg)
    return [`New version ${newVersion} written to manifest: ${manifestPath}`]
  }

  async updateProjectDependencies(tree, projectGraph, dependenciesToUpdate) {
    const manifestPath = this.manifestPath()
    const pkg = readJson(tree, manifestPath)
    const logs = []
    for (const [project, version] of Object.entries(dependenciesToUpdate)) {
      const depName = projectGraph.nodes[project]?.data?.metadata?.js?.packageName ?? project
      for (const field of DEP_FIELDS) {
        if (pkg[field]?.[depName] !== undefined) {
          pkg[field][depName] = version
          logs.push(`Updated ${field}.${depName} to ${version} in ${manifestPath}`)
        }
      }
    }
    writeJson(tree, manifestPath, pkg)
    return logs
  }
}

module.exports = PackageJsonVersionActions
module.exports.default = PackageJsonVersionActions
