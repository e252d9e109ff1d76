package cli

import (
	"fmt"
	"math/big"
	"regexp"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubegate/kubegate/load"
)

// The bounds of the loader's limits: an input is never larger than
// maxFileSizeBound bytes per file nor more than maxNodesBound YAML nodes
// per document, whatever the flags say, so that memory stays bounded.
const (
	maxFileSizeBound = 1 << 30     // 1 GiB
	maxNodesBound    = 100_000_000 // about 10 GB of expanded YAML nodes at most
)

// addLimitFlags registers --max-file-size and --max-nodes on fs and returns
// a function that reads them, after parsing, as load.Limits.
func addLimitFlags(fs *pflag.FlagSet) func() (load.Limits, error) {
	def := resource.NewQuantity(load.DefaultLimits.MaxFileBytes, resource.BinarySI).String()
	size := fs.String("max-file-size", def, "refuse files larger than `BYTES`: a number of bytes or a quantity such as 64Mi, at most 1Gi")
	nodes := fs.Int("max-nodes", load.DefaultLimits.MaxNodes, "refuse YAML documents of more than `N` nodes, aliases counted each time they are used (stops alias bombs; 1 to 100000000)")
	return func() (load.Limits, error) {
		n, err := parseByteSize(*size)
		if err != nil {
			return load.Limits{}, fmt.Errorf("--max-file-size: %v", err)
		}
		if *nodes < 1 || *nodes > maxNodesBound {
			return load.Limits{}, fmt.Errorf("--max-nodes: %d is not between 1 and %d", *nodes, maxNodesBound)
		}
		return load.Limits{MaxFileBytes: n, MaxNodes: *nodes}, nil
	}
}

// byteSizeRE is a size as --max-file-size takes it: a number, perhaps with
// a fraction, and a decimal or binary suffix (no exponents: Kubernetes'
// quantity parser spins on huge ones).
var byteSizeRE = regexp.MustCompile(`^([0-9]{1,20}(?:\.[0-9]{1,20})?)(k|M|G|Ki|Mi|Gi)?$`)

var byteSuffixes = map[string]int64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}

// parseByteSize reads a size in bytes: a whole number, or a quantity with
// a suffix as Kubernetes writes them (64Mi, 1.5G), between 1 byte and
// maxFileSizeBound.
func parseByteSize(s string) (int64, error) {
	m := byteSizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a number of bytes (for example 33554432 or 32Mi)", s)
	}
	v, _ := new(big.Rat).SetString(m[1])
	v.Mul(v, new(big.Rat).SetInt64(byteSuffixes[m[2]]))
	if !v.IsInt() {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	if v.Sign() < 1 || v.Cmp(new(big.Rat).SetInt64(maxFileSizeBound)) > 0 {
		return 0, fmt.Errorf("%s is not between 1 byte and %s", s, load.FormatBytes(maxFileSizeBound))
	}
	return v.Num().Int64(), nil
}
