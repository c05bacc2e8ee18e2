"""What a user looks at: pictures of a run (`plots`) and the HTML report (`html_report`)."""
