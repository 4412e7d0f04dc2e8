using System.CommandLine;
using System.CommandLine.Parsing;
using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Cli;

/// <summary>Options of <c>contactgrains chat</c>.</summary>
internal sealed record ChatOptions(IReadOnlyList<string> Addresses, string Channel, string Thread, string Customer, string Name, string Language, string? ApiKey = null);

/// <summary>Options of <c>contactgrains agent</c>.</summary>
internal sealed record AgentOptions(IReadOnlyList<string> Addresses, string AgentId, string Name, IReadOnlyList<SkillLevel> Skills, IReadOnlyList<string> Languages, uint Capacity, string? Token = null)
{
    /// <summary>Parses the arguments after "agent"; returns null with the errors when they are wrong.</summary>
    public static (AgentOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var (command, bind) = Commands.Agent();
        var result = command.Parse(args);
        return result.Errors.Count > 0 ? (null, string.Join('\n', result.Errors.Select(e => e.Message))) : (bind(result), null);
    }

    /// <summary>The profile sent with the first Connect of a run.</summary>
    public AgentProfile ToProfile() => new() { DisplayName = Name, DefaultCapacity = Capacity, Skills = { Skills }, Languages = { Languages } };
}

/// <summary>The command line: <c>chat</c> and <c>agent</c>, their options, help and errors (System.CommandLine).</summary>
internal static class Commands
{
    private const uint MaxCapacity = 100;
    private static readonly string User = Environment.UserName;

    /// <summary>The root command; each subcommand runs with <paramref name="input"/> and <paramref name="output"/> as its terminal.</summary>
    public static RootCommand Root(TextReader input, TextWriter output)
    {
        var (chat, bindChat) = Chat();
        chat.SetAction((result, token) => new CustomerChat(bindChat(result), input, output).RunAsync(token));
        var (agent, bindAgent) = Agent();
        agent.SetAction((result, token) => new AgentDesk(bindAgent(result), input, output).RunAsync(token));
        return new RootCommand("A terminal client of ContactGrains: chat as a customer, or work as an agent.") { chat, agent };
    }

    public static (Command Command, Func<ParseResult, ChatOptions> Bind) Chat()
    {
        var address = AddressOption();
        var channel = Text("--channel", "NAME", "Channel to speak as (the adapter's name)", "webchat");
        var thread = NotEmpty(new Option<string?>("--thread") { HelpName = "ID", Description = "External thread id [default: a new one per run; give an earlier one to continue it]" });
        var customer = Text("--customer", "ID", "External customer id", $"terminal-{User}");
        var name = Text("--name", "NAME", "Customer display name", User);
        var language = Parsed("--language", "CODE", "Customer language: en, fr, …", "en", ParseLanguage);
        var apiKey = Credential("--api-key", "KEY", "The channel's API key [default: $CONTACTGRAINS_API_KEY, else the development key]", "CONTACTGRAINS_API_KEY");
        var command = new Command("chat", """
            Chat with ContactGrains as a customer, over the channel API (an adapter's connection).
            In the chat: type a message and press Enter. Commands: /info (owner and ledger), /transcript, /close, /rate N (1-5, once asked), /quit.
            """) { address, channel, thread, customer, name, language, apiKey };
        return (command, r => new ChatOptions(
            r.GetRequiredValue(address), r.GetRequiredValue(channel), r.GetValue(thread) ?? $"terminal-{Guid.NewGuid():N}",
            r.GetRequiredValue(customer), r.GetRequiredValue(name), r.GetRequiredValue(language), r.GetValue(apiKey)));
    }

    public static (Command Command, Func<ParseResult, AgentOptions> Bind) Agent()
    {
        var address = AddressOption();
        var id = Parsed("--id", "AGENT_ID", "Agent id: letters, digits, - _ . @", DefaultAgentId(), value =>
            AgentClient.IsValidAgentId(value) ? (value, null) : (null, $"--id '{value}' is not a valid agent id: use {AgentClient.AgentIdRule}."));
        var name = Parsed("--name", "NAME", "Display name the customer sees", User, value =>
            value.Trim() is { Length: > 0 } trimmed ? (trimmed, null) : (null, "--name must not be empty: it is the name customers see."));
        var skills = Parsed("--skills", "LIST", "Skill:proficiency pairs, 1 (novice) to 5 (expert), e.g. billing:4,payments:3", "general:3", ParseSkills);
        var languages = Parsed("--languages", "LIST", "Languages you chat in, e.g. en,fr", "en", ParseLanguages);
        var capacity = Parsed("--capacity", "N", $"Conversations at once, 1 to {MaxCapacity}", "3", value =>
            uint.TryParse(value, out var n) && n is >= 1 and <= MaxCapacity ? (value, null) : (null, $"--capacity must be a whole number from 1 to {MaxCapacity}, not '{value}'."));
        var token = Credential("--token", "JWT", "Your bearer token [default: $CONTACTGRAINS_TOKEN, else a development token]", "CONTACTGRAINS_TOKEN");
        var command = new Command("agent", """
            Work as an agent over the agent API: take offers, chat with customers, resolve.
            Once connected, offers and customer messages appear as they arrive. Type text to answer in the current
            conversation; /accept, /list, /resolve CODE, /quit, … (/help lists them all).
            """) { address, id, name, skills, languages, capacity, token };
        return (command, r => new AgentOptions(
            r.GetRequiredValue(address), r.GetRequiredValue(id), r.GetRequiredValue(name),
            [.. r.GetRequiredValue(skills).Split(',', Trim).Select(s => s.Split(':', 2)).Select(p => new SkillLevel { Skill = p[0].Trim(), Proficiency = uint.Parse(p[1].Trim()) })],
            [.. r.GetRequiredValue(languages).Split(',', Trim).Distinct(StringComparer.Ordinal)],
            uint.Parse(r.GetRequiredValue(capacity)), r.GetValue(token)));
    }

    /// <summary>A credential: from the option, else the environment variable (so it stays out of shell history), else none.</summary>
    private static Option<string?> Credential(string name, string helpName, string description, string variable) =>
        NotEmpty(new Option<string?>(name)
        {
            HelpName = helpName,
            Description = description,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null,
        });

    private const StringSplitOptions Trim = StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries;

    private static Option<string[]> AddressOption() => new("--address")
    {
        HelpName = "URL",
        Description = "Silo gRPC address; repeat it to name several silos (after a broken stream the next is tried)",
        Arity = ArgumentArity.OneOrMore,
        DefaultValueFactory = _ => ["http://127.0.0.1:5000"],
        CustomParser = result =>
        {
            foreach (var bad in result.Tokens.Select(t => t.Value).Where(a => !(Uri.TryCreate(a, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")))
            {
                result.AddError($"--address must be an http:// or https:// URL, not '{bad}'.");
            }

            return [.. result.Tokens.Select(t => t.Value)];
        },
    };

    private static Option<string> Text(string name, string helpName, string description, string defaultValue) =>
        NotEmpty(new Option<string>(name) { HelpName = helpName, Description = description, DefaultValueFactory = _ => defaultValue });

    private static Option<T> NotEmpty<T>(Option<T> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
            {
                result.AddError($"{option.Name} must not be empty.");
            }
        });
        return option;
    }

    /// <summary>A text option checked by <paramref name="parse"/>, which returns the value to keep or the error to report.</summary>
    private static Option<string> Parsed(string name, string helpName, string description, string defaultValue, Func<string, (string? Value, string? Error)> parse)
    {
        var option = Text(name, helpName, description, defaultValue);
        option.CustomParser = result =>
        {
            var (value, error) = parse(result.Tokens[^1].Value);
            if (error is not null)
            {
                result.AddError(error);
            }

            return value ?? "";
        };
        return option;
    }

    /// <summary>Checks "billing:4,payments:3".</summary>
    internal static (string? Value, string? Error) ParseSkills(string value)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in value.Split(',', Trim))
        {
            var colon = item.LastIndexOf(':');
            var (skill, level) = colon < 0 ? (item, "") : (item[..colon].Trim(), item[(colon + 1)..].Trim());
            string? error = colon < 0 ? $"--skills: '{item}' needs a proficiency, e.g. '{item}:3' (1 novice to 5 expert)."
                : skill.Length == 0 || skill.Any(char.IsWhiteSpace) || skill.Contains(':') ? $"--skills: '{item}' has no valid skill name before the ':'."
                : !uint.TryParse(level, out var proficiency) || proficiency is < 1 or > 5 ? $"--skills: proficiency in '{skill}' is '{level}'; use 1 (novice) to 5 (expert)."
                : !seen.Add(skill) ? $"--skills lists '{skill}' twice." : null;
            if (error is not null)
            {
                return (null, error);
            }
        }

        return seen.Count == 0 ? (null, "--skills needs at least one skill:proficiency pair, e.g. billing:4,general:3.") : (value, null);
    }

    /// <summary>Checks "en,fr".</summary>
    internal static (string? Value, string? Error) ParseLanguages(string value)
    {
        var languages = value.Split(',', Trim);
        if (languages.FirstOrDefault(l => !IsLanguage(l)) is { } bad)
        {
            return (null, $"--languages: '{bad}' is not a language code such as en or fr.");
        }

        return languages.Length == 0 ? (null, "--languages needs at least one language, e.g. en or en,fr.") : (value, null);
    }

    private static (string? Value, string? Error) ParseLanguage(string value) =>
        IsLanguage(value.Trim()) ? (value.Trim(), null) : (null, $"--language: '{value}' is not a language code such as en or fr.");

    private static bool IsLanguage(string code) => code.Length > 0 && code.All(c => char.IsAsciiLetter(c) || c == '-');

    // A user name may hold characters the agent header does not allow (spaces, accents).
    private static string DefaultAgentId()
    {
        var id = "agent-" + string.Concat(User.Select(c => AgentClient.AgentIdChars.Contains(c) ? c : '-'));
        return id[..Math.Min(AgentClient.MaxAgentIdLength, id.Length)];
    }
}
