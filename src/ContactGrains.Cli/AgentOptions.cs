using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Cli;

/// <summary>Command-line options of <c>contactgrains agent</c>: <c>--name value</c> pairs, each with a default.</summary>
internal sealed record AgentOptions(
    string Address,
    string AgentId,
    string Name,
    IReadOnlyList<(string Skill, uint Proficiency)> Skills,
    IReadOnlyList<string> Languages,
    uint Capacity)
{
    public const string Usage = """
        Usage: contactgrains agent [options]
          Work as an agent over the agent API: take offers, chat with customers, resolve.

          --address URL      silo gRPC address                        (default http://127.0.0.1:5000)
          --id AGENT_ID      agent id: letters, digits, - _ . @       (default agent-<user>)
          --name NAME        display name the customer sees           (default your user name)
          --skills LIST      skill:proficiency pairs, 1 (novice) to 5 (expert),
                             e.g. billing:4,payments:3                (default general:3)
          --languages LIST   languages you chat in, e.g. en,fr        (default en)
          --capacity N       conversations at once, 1 to 100          (default 3)

        Once connected, offers and customer messages appear as they arrive. Type text to answer in
        the current conversation; /accept, /list, /resolve CODE, /quit, … (/help lists them all).
        """;

    private const uint MaxCapacity = 100;

    /// <summary>Parses the arguments after "agent"; returns null with an error message when they are wrong.</summary>
    public static (AgentOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var user = Environment.UserName;
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--address"] = "http://127.0.0.1:5000",
            ["--id"] = DefaultAgentId(user),
            ["--name"] = user,
            ["--skills"] = "general:3",
            ["--languages"] = "en",
            ["--capacity"] = "3",
        };

        if (OptionPairs.Apply(args, values) is { } error)
        {
            return (null, error);
        }

        var agentId = values["--id"];
        // The server's rule for the agent header, checked here so a typo gets a clear message before connecting.
        if (!AgentClient.IsValidAgentId(agentId))
        {
            return (null, $"--id '{agentId}' is not a valid agent id: use {AgentClient.AgentIdRule}.");
        }

        var name = values["--name"].Trim();
        if (name.Length == 0)
        {
            return (null, "--name must not be empty: it is the name customers see.");
        }

        var (skills, skillsError) = ParseSkills(values["--skills"]);
        if (skills is null)
        {
            return (null, skillsError);
        }

        var (languages, languagesError) = ParseLanguages(values["--languages"]);
        if (languages is null)
        {
            return (null, languagesError);
        }

        // 0 would mean "the server's default" on the wire: require an explicit, sensible number.
        if (!uint.TryParse(values["--capacity"], out var capacity) || capacity is 0 or > MaxCapacity)
        {
            return (null, $"--capacity must be a whole number from 1 to {MaxCapacity}, not '{values["--capacity"]}'.");
        }

        return (new AgentOptions(values["--address"], agentId, name, skills, languages, capacity), null);
    }

    /// <summary>Parses "billing:4,payments:3"; returns null with an error message when it is wrong.</summary>
    internal static (IReadOnlyList<(string Skill, uint Proficiency)>? Skills, string? Error) ParseSkills(string value)
    {
        var skills = new List<(string Skill, uint Proficiency)>();
        foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = item.LastIndexOf(':');
            if (colon < 0)
            {
                return (null, $"--skills: '{item}' needs a proficiency, e.g. '{item}:3' (1 novice to 5 expert).");
            }

            var skill = item[..colon].Trim();
            var level = item[(colon + 1)..].Trim();
            if (skill.Length == 0 || skill.Any(char.IsWhiteSpace))
            {
                return (null, $"--skills: '{item}' has no valid skill name before the ':'.");
            }

            if (!uint.TryParse(level, out var proficiency) || proficiency is < 1 or > 5)
            {
                return (null, $"--skills: proficiency in '{skill}' is '{level}'; use 1 (novice) to 5 (expert).");
            }

            if (skills.Exists(s => s.Skill == skill))
            {
                return (null, $"--skills lists '{skill}' twice.");
            }

            skills.Add((skill, proficiency));
        }

        return skills.Count == 0
            ? (null, "--skills needs at least one skill:proficiency pair, e.g. billing:4,general:3.")
            : (skills, null);
    }

    /// <summary>Parses "en,fr"; returns null with an error message when it is wrong.</summary>
    internal static (IReadOnlyList<string>? Languages, string? Error) ParseLanguages(string value)
    {
        var languages = new List<string>();
        foreach (var language in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!language.All(c => char.IsAsciiLetter(c) || c == '-'))
            {
                return (null, $"--languages: '{language}' is not a language code such as en or fr.");
            }

            if (!languages.Contains(language))
            {
                languages.Add(language);
            }
        }

        return languages.Count == 0
            ? (null, "--languages needs at least one language, e.g. en or en,fr.")
            : (languages, null);
    }

    /// <summary>The profile sent with the first Connect of a run.</summary>
    public AgentProfile ToProfile()
    {
        var profile = new AgentProfile { DisplayName = Name, DefaultCapacity = Capacity };
        profile.Skills.Add(Skills.Select(s => new SkillLevel { Skill = s.Skill, Proficiency = s.Proficiency }));
        profile.Languages.Add(Languages);
        return profile;
    }

    // A user name may hold characters the agent header does not allow (spaces, accents).
    private static string DefaultAgentId(string user)
    {
        var id = string.Concat(user.Select(c => AgentClient.AgentIdChars.Contains(c) ? c : '-'));
        return $"agent-{id}"[..Math.Min(AgentClient.MaxAgentIdLength, id.Length + 6)];
    }
}
