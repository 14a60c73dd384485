// Package config reads mogan-api's oslo.config-style INI file into a typed
// Config, with defaults, and refuses anything it does not understand with
// an error naming the file, the section and the option.
package config
