package schema

// DeepCopy copies a decoded JSON value.
var DeepCopy = deepCopy

// FastAndFull are the fast pass's verdict and kube-openapi's on obj's
// values (true: valid), for TestDifferentialAgainstStrictDecoding.
func FastAndFull(c *Catalog, obj map[string]any) (fast, full bool) {
	v := c.validator(ParseGVK(str(obj["apiVersion"]), str(obj["kind"])))
	return v.fast.clean(obj), v.values.Validate(obj).IsValid()
}
