public import Configuration
import SystemPackage

extension ServerConfiguration {
    /// Builds the reader Parley uses: command-line flags over `PARLEY_*` environment variables over a YAML file.
    ///
    /// - Parameters:
    ///   - flags: Values given on the command line, by key.
    ///   - environment: The process environment; only `PARLEY_*` variables are read (`PARLEY_FLOOD_CONTROL` is
    ///     `flood-control`).
    ///   - file: A YAML file, if one was given.
    /// - Throws: ``ConfigurationError`` (key `config`) when the file cannot be read or parsed.
    public static func reader(
        flags: [String: String],
        environment: [String: String],
        file: String?
    ) async throws
        -> ConfigReader
    {
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags {
            flagValues[AbsoluteConfigKey([key])] = ConfigValue(.string(value), isSecret: key == "password")
        }
        var environmentValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, value) in environment where name.hasPrefix("PARLEY_") {
            let key = String(name.dropFirst("PARLEY_".count).lowercased().map { $0 == "_" ? "-" : $0 })
            environmentValues[AbsoluteConfigKey([key])] = ConfigValue(.string(value), isSecret: true)
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: flagValues),
            InMemoryProvider(name: "environment", values: environmentValues),
        ]
        if let file {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigurationError(key: "config", message: "cannot read \(file): \(error)")
            }
        }
        return ConfigReader(providers: providers)
    }
}
