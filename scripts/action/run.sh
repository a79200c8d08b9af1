#!/usr/bin/env bash
# Runs the GitHub Action's command (action.yml): `seedc --root ROOT COMMAND --format github`,
# then the optional SARIF file and Markdown diff, and exits with the command's exit code
# (after writing the extras, so a failing check still leaves its SARIF for the upload).
set -uo pipefail

read -ra args <<<"${SEEDC_COMMAND:-check}"
((${#args[@]})) || args=(check)
format=(--format github)
for a in "${args[@]}"; do
    [[ $a == --format || $a == --format=* ]] && format=()
done

seedc --root "$SEEDC_ROOT" "${args[@]}" "${format[@]}"
code=$?
echo "exit-code=$code" >>"$GITHUB_OUTPUT"

case ${args[0]} in
    check | build | diff) ;; # seedc writes their step summary itself
    *) printf '### seedc %s\n\nexit code %s\n' "${args[0]}" "$code" >>"${GITHUB_STEP_SUMMARY:-/dev/null}" ;;
esac

if [[ -n ${SEEDC_SARIF_FILE:-} ]]; then
    # Exit 1 only says the content is invalid: the SARIF file is written all the same.
    GITHUB_STEP_SUMMARY= seedc --root "$SEEDC_ROOT" check --format sarif >"$SEEDC_SARIF_FILE"
    rc=$?
    ((rc <= 1)) || { echo "::error title=seedc::writing $SEEDC_SARIF_FILE failed (exit $rc)"; exit "$rc"; }
    echo "sarif-file=$SEEDC_SARIF_FILE" >>"$GITHUB_OUTPUT"
fi

if [[ -n ${SEEDC_DIFF_BASE:-} ]]; then
    file=${SEEDC_DIFF_FILE:-${RUNNER_TEMP:?}/seedc-diff.md}
    seedc --root "$SEEDC_ROOT" diff "$SEEDC_DIFF_BASE" --format markdown >"$file"
    rc=$?
    ((rc <= 1)) || { echo "::error title=seedc::seedc diff $SEEDC_DIFF_BASE failed (exit $rc)"; exit "$rc"; }
    echo "diff-file=$file" >>"$GITHUB_OUTPUT"
fi

exit "$code"
