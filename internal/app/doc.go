// Package app builds sluice's handlers from configuration and environment,
// the same way for the Lambdas and the CLI: only the clients differ.
package app
