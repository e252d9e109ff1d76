package sbom

import (
	"os"
	"regexp"
	"testing"
)

// TestSyftVersionMatchesGoMod keeps the fallback tool version honest.
func TestSyftVersionMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/anchore/syft (v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod does not require github.com/anchore/syft")
	}
	if string(m[1]) != syftVersion {
		t.Errorf("syftVersion = %s but go.mod requires syft %s: update generator.go", syftVersion, m[1])
	}
}

// TestOfflineConfig pins every network-capable syft option to off.
func TestOfflineConfig(t *testing.T) {
	t.Setenv("GOPROXY", "https://proxy.example.invalid")
	t.Setenv("GOPRIVATE", "example.invalid/*")
	c := offlinePackagesConfig()
	if c.Golang.SearchRemoteLicenses || c.Golang.SearchLocalModCacheLicenses || c.Golang.SearchLocalVendorLicenses || c.Golang.UsePackagesLib {
		t.Errorf("golang config not offline: %+v", c.Golang)
	}
	if len(c.Golang.Proxies) != 0 || len(c.Golang.NoProxy) != 0 || c.Golang.LocalModCacheDir != "" {
		t.Errorf("golang config keeps host settings: %+v", c.Golang)
	}
	if c.JavaArchive.UseNetwork || c.JavaArchive.UseMavenLocalRepository || c.JavaArchive.ResolveTransitiveDependencies || c.JavaArchive.MavenLocalRepositoryDir != "" {
		t.Errorf("java config not offline: %+v", c.JavaArchive)
	}
	if c.JavaScript.SearchRemoteLicenses {
		t.Errorf("javascript config not offline: %+v", c.JavaScript)
	}
	if c.Python.SearchRemoteLicenses {
		t.Errorf("python config not offline: %+v", c.Python)
	}
	if c.Cpp.VcpkgAllowGitClone {
		t.Errorf("cpp config not offline: %+v", c.Cpp)
	}
}
