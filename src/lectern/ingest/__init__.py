"""Turn a Docusaurus docs tree (or any folder of Markdown/MDX) into parsed pages and citable chunks."""
