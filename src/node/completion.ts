// `plurisim completion bash|zsh|fish`: completion scripts generated from the command tree, so
// they list exactly the commands and flags the CLI has. Scenario arguments complete to preset
// names and .json files.
import type { Command } from "commander";
import { presets } from "../core/presets.js";
import { sweepPresets } from "../sweep/presets.js";

/** The shells `plurisim completion` writes a script for. */
export const COMPLETION_SHELLS = ["bash", "zsh", "fish"] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface CommandInfo {
  name: string;
  description: string;
  flags: string[];
  /** Words that complete the first argument, besides file names. */
  words: string[];
}

function commandsOf(program: Command): CommandInfo[] {
  const scenarioWords = Object.keys(presets);
  const wordsFor: Record<string, string[]> = {
    run: scenarioWords,
    nash: scenarioWords,
    audit: scenarioWords,
    sweep: Object.keys(sweepPresets),
    completion: ["bash", "zsh", "fish"],
  };
  return program.commands.map((c) => ({
    name: c.name(),
    description: c.description().split(/[:;(]/)[0].trim(),
    flags: [...c.options.map((o) => o.long ?? o.short ?? "").filter(Boolean), "--help"],
    words: wordsFor[c.name()] ?? [],
  }));
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

function bash(cmds: CommandInfo[]): string {
  const cases = cmds
    .map((c) => `    ${c.name}) flags=${quote(c.flags.join(" "))}; words=${quote(c.words.join(" "))} ;;`)
    .join("\n");
  return `# plurisim completion for bash: eval "$(plurisim completion bash)" (or save it under ~/.local/share/bash-completion/completions/plurisim)
_plurisim() {
  local cur cmd flags words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${quote(cmds.map((c) => c.name).join(" ") + " --help --version")} -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) flags="--help"; words="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _plurisim plurisim
`;
}

function zsh(cmds: CommandInfo[]): string {
  const describe = cmds.map((c) => `    ${quote(`${c.name}:${c.description.replace(/:/g, "\\:")}`)}`).join("\n");
  // One rest spec per command: the first argument offers the preset names and files, later ones files.
  const first = (c: CommandInfo) => (c.words.length ? quote(`1: :{_alternative "names:name:(${c.words.join(" ")})" "files:file:_files"}`) + " " : "");
  const cases = cmds
    .map((c) => `    ${c.name}) _arguments ${c.flags.map((f) => quote(`${f}[]`)).join(" ")} ${first(c)}'*:file:_files' ;;`)
    .join("\n");
  return `#compdef plurisim
# plurisim completion for zsh: eval "$(plurisim completion zsh)" after compinit (or save it as _plurisim in your $fpath)
_plurisim() {
  local -a commands
  commands=(
${describe}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _plurisim plurisim
`;
}

function fish(cmds: CommandInfo[]): string {
  const lines = [
    "# plurisim completion for fish: plurisim completion fish | source (or save it as ~/.config/fish/completions/plurisim.fish)",
    "complete -c plurisim -f",
  ];
  for (const c of cmds) {
    lines.push(`complete -c plurisim -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`);
    for (const f of c.flags) lines.push(`complete -c plurisim -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} -l ${f.replace(/^--/, "")}`);
    if (c.words.length) lines.push(`complete -c plurisim -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} -a ${quote(c.words.join(" "))}`);
    lines.push(`complete -c plurisim -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} -F`);
  }
  return lines.join("\n") + "\n";
}

/** The completion script for `shell`, listing the commands and flags of `program`. */
export function completionScript(shell: CompletionShell, program: Command): string {
  const cmds = commandsOf(program);
  return shell === "bash" ? bash(cmds) : shell === "zsh" ? zsh(cmds) : fish(cmds);
}
