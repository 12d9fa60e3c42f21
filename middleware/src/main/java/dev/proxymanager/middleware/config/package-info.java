/**
 * secrets.json: {@link dev.proxymanager.middleware.config.SecretsConfig#load} parses and validates it into immutable
 * records; {@link dev.proxymanager.middleware.config.ConfigException} names the JSON path of any error. The format
 * is documented in {@code docs/secrets.md}.
 */
package dev.proxymanager.middleware.config;
