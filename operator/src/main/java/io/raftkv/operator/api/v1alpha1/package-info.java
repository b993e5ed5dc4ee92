/**
 * The {@code RaftCluster} custom resource, group {@code raftkv.io}, version {@code v1alpha1}: the
 * Java classes are the source of truth and the CRD YAML under {@code crds/} is generated from them
 * (a test fails when the committed YAML is out of date). Validation and defaults live in the
 * schema (annotations here), so the API server rejects a bad spec before the operator sees it.
 */
package io.raftkv.operator.api.v1alpha1;
